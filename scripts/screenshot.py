"""Screenshot the seed sample's HTML report for the README (docs/report.png), or time how long any HTML report takes to open in chromium.

    python scripts/screenshot.py                         # writes docs/report.png
    python scripts/screenshot.py --html report.html --out /tmp/report.png --runs 3   # load times

Needs Debian's chromium (apt-get install -y chromium) and the playwright package (no
`playwright install`: the browser is the system's).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_cpu_seconds() -> float:
    """CPU time used so far by the chromium processes this script started (Linux /proc): unlike
    wall time, not inflated when other processes share the cores."""
    procs = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        procs[int(stat.parent.name)] = (comm, int(rest[1]), int(rest[11]) + int(rest[12]))  # ppid, utime + stime
    mine, ticks = {os.getpid()}, 0
    for _ in range(6):  # python -> playwright driver -> chromium -> its zygotes and renderers
        mine |= {pid for pid, (_, ppid, _) in procs.items() if ppid in mine}
    ticks = sum(t for pid, (comm, _, t) in procs.items() if pid in mine and "chrom" in comm)
    return ticks / os.sysconf("SC_CLK_TCK")


def seed_report(folder: Path) -> Path:
    """The HTML report of `csvprep check sample-data/contact.tsv --object contact`."""
    sys.path.insert(0, str(ROOT))
    import csvprep

    os.chdir(ROOT)  # the report names the file as given: sample-data/contact.tsv
    path = folder / "seed.html"
    report = csvprep.check("sample-data/contact.tsv", "contact", report_rows=1000)
    csvprep.write_report(report, path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, help="an HTML report to open (default: the seed sample's)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png", help="PNG to write")
    ap.add_argument("--runs", type=int, default=1, help="open the page this many times; prints each load time")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=820)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        html = args.html.resolve() if args.html else seed_report(Path(tmp))
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        times: list[float] = []
        inside: list[float] = []
        busy: list[float] = []
        used: list[float] = []
        for _ in range(args.runs):
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            cpu = browser_cpu_seconds()
            started = time.perf_counter()
            page.goto(html.as_uri())
            page.wait_for_selector("body.ready")  # the script ran and drew the first page of the grid
            times.append(time.perf_counter() - started)
            # the page's own clock: navigation start to the end of DOMContentLoaded (the inline script ran)
            inside.append(page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd") / 1000)
            # the renderer's main thread busy time (parse, script, style, layout): what a busy machine's
            # waiting does not inflate
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            busy.append(metrics.get("TaskDuration", 0.0))
            used.append(browser_cpu_seconds() - cpu)
            last = page
            if len(times) < args.runs:
                page.close()
        if not args.html:  # show the tooltip of the seed's line 4 phone cell, as a keyboard user sees it
            last.locator("#grid tbody tr", has=last.locator("th.line", has_text=re.compile("^4$"))).locator("td.cell").first.focus()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        last.screenshot(path=str(args.out), full_page=not args.html)
        browser.close()
    size = html.stat().st_size if args.html else None
    print(f"{html.name if args.html else 'seed report'}: "
          + (f"{size / 1e6:.1f} MB, " if size else "")
          + f"opened in {', '.join(f'{t:.2f}' for t in times)} s (median {statistics.median(times):.2f} s; "
          + f"DOMContentLoaded median {statistics.median(inside):.2f} s; main thread busy median "
          + f"{statistics.median(busy):.2f} s; chromium CPU time median {statistics.median(used):.2f} s); "
          + f"screenshot {args.out}")


if __name__ == "__main__":
    main()
