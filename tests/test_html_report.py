"""The HTML report: its data and escaping, and what a person sees in a real browser (Debian's chromium driven by playwright)."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.html_report import to_html

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample-data" / "contact.tsv"
SHARED = Path(os.environ.get("CSVPREP_SHARED") or ROOT.parent / "shared")
MESSY = SHARED / "corpus" / "csv-data-cleaning-portfolio" / "messy_data.csv"
CHROMIUM = os.environ.get("CSVPREP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = ['<script>window.__pwned = 1</script>', '"><img src=x onerror="window.__pwned = 2">',
           "</script><script>window.__pwned = 3</script>"]


def grid_data(html: str) -> dict[str, Any]:
    """The JSON the page embeds for its grid."""
    found = re.search(r'<script type="application/json" id="grid-data">(.*?)</script>', html, re.S)
    assert found, "no grid data in the page"
    return json.loads(found.group(1))


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    return result


def seed_reports(tmp: Path) -> tuple[Path, dict[str, Any]]:
    html, js = tmp / "seed.html", tmp / "seed.json"
    run(["check", str(SEED), "-O", "contact", "--report", str(html), "--report", str(js), "-q"])
    return html, json.loads(js.read_text(encoding="utf-8"))


def write_contacts(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["email", "first_name", "last_name", "phone"], *rows])
    return path


# --- without a browser: the data, the bound, the escaping, the commands ----------------------

def test_report_flag_writes_html_and_json_by_suffix(tmp_path: Path) -> None:
    html, report = seed_reports(tmp_path)
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>")
    assert set(report) >= {"ok", "file", "encoding", "delimiter", "object", "rows", "issues"}
    data = grid_data(text)
    lines = sorted({i["line"] for i in report["issues"] if i["line"] is not None})
    assert [r[0] for r in data["rows"]] == lines
    four = next(r for r in data["rows"] if r[0] == 4)
    assert four[1][data["columns"].index("C_BusPhone")] == "444) 444-1234"  # the cell as read
    assert four[1][data["columns"].index("C_FirstName")] == "Ann"


def test_html_is_self_contained(tmp_path: Path) -> None:
    text = seed_reports(tmp_path)[0].read_text(encoding="utf-8")
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?!data:|#)", text, re.I)
    assert "http-equiv=\"Content-Security-Policy\"" in text and "default-src 'none'" in text
    assert "<link" not in text and "@import" not in text


def test_hostile_values_cannot_leave_their_place(tmp_path: Path) -> None:
    src = write_contacts(tmp_path / "x.csv", [[v, "A", "B", "1"] for v in HOSTILE])
    text = csvprep.check(src, "contact", report_rows=10).to_html()
    for v in HOSTILE:
        assert v not in text
    assert text.count("</script>") == 2  # the data block and the script: nothing closes them early
    data = grid_data(text)
    assert [r[1][data["columns"].index("email")] for r in data["rows"]] == HOSTILE


def test_grid_holds_at_most_n_lines_per_code(tmp_path: Path) -> None:
    rows = [[f"bad{i}", "A", "B", "(555) 555-1234" if i % 2 else ""] for i in range(40)]
    src = write_contacts(tmp_path / "many.csv", rows)
    out = tmp_path / "r.html"
    run(["check", str(src), "-O", "contact", "--report", str(out), "--report-rows", "7", "--chunk-size", "300B"])
    text = out.read_text(encoding="utf-8")
    data = grid_data(text)
    report = csvprep.check(src, "contact")
    by_code: dict[str, list[int]] = {}
    for line, code in report.issues.select("line", "code").iter_rows():
        if line not in by_code.setdefault(code, []):
            by_code[code].append(line)
    firsts = set().union(*(lines[:7] for lines in by_code.values()))
    assert [r[0] for r in data["rows"]] == sorted(firsts)  # the first 7 lines of each code
    assert len(data["rows"]) < report.issues["line"].n_unique()
    total = report.counts()["email.invalid"]
    held = sum(1 for r in data["rows"] for i in r[3] if data["codes"][i[2]] == "email.invalid")
    assert f"email.invalid: {held} of {total} shown, {total - held} more" in text
    # collected over several batches: the same cells as one batch
    one = csvprep.check(src, "contact", report_rows=7)
    many = csvprep.check(src, "contact", report_rows=7, chunk_bytes=300)
    assert one.rows is not None and one.rows.equals(many.rows)
    assert one.rows.height == len({r[0] for r in data["rows"]})


def test_report_command_from_json(tmp_path: Path) -> None:
    _, report = seed_reports(tmp_path)
    js, out = tmp_path / "seed.json", tmp_path / "from-json.html"
    run(["report", str(js), "-o", str(out)])
    data = grid_data(out.read_text(encoding="utf-8"))
    assert data["cells"] is False
    assert data["columns"] == ["C_BusPhone", "C_Website1"]  # the columns of the issues, in schema order
    four = next(r for r in data["rows"] if r[0] == 4)
    assert four[1] is None and {i[1] for i in four[3]} == {"444) 444-1234"}  # what the issues name
    bad = tmp_path / "not.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(bad), "-o", str(out)])
    assert result.exit_code == 2 and "not a csvprep JSON report" in result.output


def test_clean_writes_every_report(tmp_path: Path) -> None:
    out, html, js = tmp_path / "c.csv", tmp_path / "r.htm", tmp_path / "r.json"
    run(["clean", str(SEED), "-O", "contact", "-o", str(out), "--report", str(html), "--report", str(js), "-q"])
    report = json.loads(js.read_text(encoding="utf-8"))
    assert report["outputs"]["report"] == str(html)
    assert report["outputs"]["reports"] == [str(html), str(js)]
    assert grid_data(html.read_text(encoding="utf-8"))["cells"] is True
    one = tmp_path / "one.json"
    run(["clean", str(SEED), "-O", "contact", "-o", str(out), "--report", str(one), "-q"])
    assert "reports" not in json.loads(one.read_text(encoding="utf-8"))["outputs"]


def test_write_report_takes_the_format(tmp_path: Path) -> None:
    report = csvprep.check(SEED, "contact")
    csvprep.write_report(report, tmp_path / "a.txt", format="html")
    csvprep.write_report(report, tmp_path / "b.html", format="json")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert json.loads((tmp_path / "b.html").read_text(encoding="utf-8"))["rows"]["read"] == 10
    with pytest.raises(csvprep.OutputError):
        csvprep.write_report(report, tmp_path / "c", format="xml")
    copy = tmp_path / "in.html"  # an input that ends in .html: check --report must not overwrite it
    copy.write_bytes(SEED.read_bytes())
    result = CliRunner().invoke(cli, ["check", str(copy), "-O", "contact", "--report", str(copy)])
    assert result.exit_code == 2 and "would overwrite the input" in result.output
    assert copy.read_bytes() == SEED.read_bytes()


def test_guessed_encoding_is_said(tmp_path: Path) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("email,first_name\nrené@example.com,René\nzoë@example.com,Zoë\n".encode("cp1252"))
    report = csvprep.check(src, "contact")
    assert report.encoding_confidence is not None and report.encoding_confidence < 1
    text = report.to_html()
    assert f"({'guessed, confidence'} {report.encoding_confidence:.2f})" in text
    assert "(detected)" in csvprep.check(SEED, "contact").to_html()


# --- in the browser ---------------------------------------------------------------------------

def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect  # waits without eval (the page's CSP forbids it)

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A page on a report file that records console errors, page errors and every request."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.context.route("**/*", lambda route: route.continue_() if route.request.url == self.url else route.abort())
        started = time.perf_counter()
        self.page.goto(self.url)
        self.page.wait_for_selector("body.ready")
        self.load_seconds = time.perf_counter() - started

    def count(self, key: str) -> int:
        return int(self.page.inner_text(f'[data-count="{key}"] .n').replace(",", ""))

    def lines(self) -> list[int]:
        return [int(t) for t in self.page.locator("#grid tbody th.line").all_inner_texts()]

    def cell(self, line: int, column: str) -> Any:
        headers = self.page.locator("#grid thead th").all_inner_texts()
        row = self.page.locator("#grid tbody tr", has=self.page.locator("th.line", has_text=re.compile(f"^{line}$")))
        return row.locator("th, td").nth(headers.index(column))

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [self.url], self.requests
        self.context.close()


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    pages: list[Page] = []

    def open_(path: Path) -> Page:
        pages.append(Page(browser, path))
        return pages[-1]

    yield open_
    for p in pages:
        p.close()


def shows_report(page: Page, report: dict[str, Any]) -> None:
    """The counts a person reads are the JSON report's."""
    for key in ("read", "clean", "rejected"):
        assert page.count(key) == report["rows"][key]
    assert page.count("errors") == sum(1 for i in report["issues"] if i["severity"] == "error")
    assert page.count("warnings") == sum(1 for i in report["issues"] if i["severity"] == "warning")
    assert page.page.inner_text("#fact-file") == report["file"]
    assert page.page.inner_text("#fact-encoding").startswith(report["encoding"])
    for code in {i["code"] for i in report["issues"]}:
        n = sum(1 for i in report["issues"] if i["code"] == code)
        bar = page.page.locator(f'g.bar[data-filter="code"][data-value="{code}"] text.n')
        assert int(re.match(r"[\d,]+", bar.text_content()).group().replace(",", "")) == n  # type: ignore[union-attr]


def test_seed_report_in_the_browser(opened: Any, tmp_path: Path) -> None:
    html, report = seed_reports(tmp_path)
    page = opened(html)
    shows_report(page, report)
    lines = sorted({i["line"] for i in report["issues"]})
    assert page.lines() == lines
    malformed = next(i for i in report["issues"] if i["code"] == "phone.malformed")
    assert malformed["line"] == 4
    cell = page.cell(4, "C_BusPhone")
    assert "warning" in cell.get_attribute("class")
    assert cell.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 243, 214)"  # amber
    assert cell.locator(".icon").inner_text() == "▲"  # not the colour alone
    assert "444) 444-1234" in cell.inner_text() and "+14444441234" in cell.inner_text()  # old → new
    assert f"phone.malformed: {malformed['message']}" in cell.get_attribute("title").split("\n")  # hover text
    # keyboard: Tab reaches the cell, and a visible tooltip holds the message
    page.page.locator("#grid tbody td.cell").first.focus()
    handle = cell.element_handle()
    for _ in range(20):
        if page.page.evaluate("t => document.activeElement === t", handle):
            break
        page.page.keyboard.press("Tab")
    assert page.page.evaluate("t => document.activeElement === t", handle)
    tip = page.page.locator("#tip")
    assert tip.is_visible() and malformed["message"] in tip.inner_text()
    plain = page.cell(4, "C_FirstName")
    assert plain.inner_text() == "Ann" and plain.get_attribute("class") in (None, "")
    shot = tmp_path / "seed.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert not blank(shot)


def test_bar_click_filters_the_grid(opened: Any, tmp_path: Path) -> None:
    html, report = seed_reports(tmp_path)
    page = opened(html)
    everything = page.lines()
    page.page.click('g.bar[data-value="phone.malformed"]')
    assert page.lines() == sorted({i["line"] for i in report["issues"] if i["code"] == "phone.malformed"})
    assert page.page.input_value("#f-code") == "phone.malformed"
    page.page.click('g.bar[data-value="phone.malformed"]')  # again: the filter is off
    assert page.lines() == everything
    page.page.focus('g.bar[data-value="phone.malformed"]')
    page.page.keyboard.press("Enter")  # the bars work from the keyboard too
    assert page.lines() == [4]
    page.page.click("#f-clear")
    page.page.click('g.bar[data-filter="column"][data-value="C_Website1"]')
    assert page.lines() == sorted({i["line"] for i in report["issues"] if i["column"] == "C_Website1"})
    page.page.click("#f-clear")
    page.page.fill("#f-q", "acmebilling")
    expect(page.page.locator("#status")).to_have_text(re.compile("^Lines 1–2 of 2 matching"))  # after the typing pause
    assert page.lines() == [6, 7]


def test_hostile_cells_show_as_text(opened: Any, tmp_path: Path) -> None:
    src = write_contacts(tmp_path / "x.csv", [[v, v, "B", "1"] for v in HOSTILE])
    out = tmp_path / "x.html"
    run(["check", str(src), "-O", "contact", "--report", str(out), "-q"])
    page = opened(out)
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.locator("#grid img, #grid script").count() == 0
    for line, v in enumerate(HOSTILE, start=2):
        assert page.cell(line, "email").locator(".value").inner_text() == v
        assert page.cell(line, "first_name").inner_text() == v


def test_hostile_header_and_broken_rows(opened: Any, tmp_path: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text('email,<img src=x onerror="window.__pwned = 4">\na@example.com,1\nb@example.com,2,<b>extra</b>\n',
                   encoding="utf-8")
    out = tmp_path / "h.html"
    run(["check", str(src), "-O", "contact", "--report", str(out), "-q"])
    page = opened(out)
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.locator("img").count() == 0 and page.page.locator("b", has_text="extra").count() == 0
    header = '<img src=x onerror="window.__pwned = 4">'
    assert header in page.page.locator("#grid thead").inner_text()
    assert header in page.page.locator(".file-issues").inner_text()  # header.unknown
    assert page.lines() == [3]
    row = page.cell(3, "row issues")
    assert "error" in row.get_attribute("class") and "row.extra_cells" in row.inner_text()
    assert row.locator("code.raw").inner_text() == "b@example.com,2,<b>extra</b>"


def test_errors_only_and_paging(opened: Any, tmp_path: Path) -> None:
    rows = [[f"p{i}@example.com" if i % 3 else f"bad{i}", "A", "B", "(555) 555-1234"] for i in range(300)]
    src = write_contacts(tmp_path / "p.csv", rows)
    out = tmp_path / "p.html"
    run(["check", str(src), "-O", "contact", "--report", str(out), "-q"])
    page = opened(out)
    assert page.lines() == list(range(2, 102))  # 300 lines with problems, 100 a page
    page.page.click("#p-next")
    assert page.lines() == list(range(102, 202))
    page.page.check("#f-errors")
    errors = [i + 2 for i in range(300) if i % 3 == 0]
    assert page.lines() == errors[:100]
    assert all("error" in c for c in page.page.locator("#grid tbody tr").evaluate_all("rs => rs.map(r => r.className)"))
    page.page.uncheck("#f-errors")
    page.page.click(".bin >> nth=1")  # the strip: the second range of lines
    bins = page.page.locator(".bin").evaluate_all("bs => bs.map(b => [+b.dataset.from, +b.dataset.to])")
    assert bins[0] == [2, 4] and bins[-1][1] == 301
    assert page.lines() == list(range(bins[1][0], bins[1][1] + 1))
    page.page.click("#f-lines-clear")
    page.page.check("#f-errors")
    page.page.select_option("#f-sev", "warning")
    page.page.uncheck("#f-errors")
    page.page.click("#p-last")
    assert page.lines() == list(range(202, 302))


def test_ten_thousand_grid_lines_stay_smooth(opened: Any, tmp_path: Path) -> None:
    src = write_contacts(tmp_path / "big.csv", [[f"bad{i}", "A", "B", "1"] for i in range(10_000)])
    out = tmp_path / "big.html"
    run(["check", str(src), "-O", "contact", "--report", str(out), "--report-rows", "10000", "-q"])
    page = opened(out)
    assert len(grid_data(out.read_text(encoding="utf-8"))["rows"]) == 10_000
    assert page.load_seconds < 8, page.load_seconds  # generous: the test machine is shared
    assert len(page.lines()) == 100
    started = time.perf_counter()
    page.page.fill("#f-q", "bad9999")
    expect(page.page.locator("#grid tbody tr")).to_have_count(1)
    page.page.fill("#f-q", "")
    page.page.click("#p-last")
    assert page.lines()[-1] == 10_001
    assert time.perf_counter() - started < 4


def test_target_verdicts_and_push_counts(opened: Any, tmp_path: Path) -> None:
    _, report = seed_reports(tmp_path)
    report["push"] = {"hub": "demo", "object": "contacts", "uploaded": 10, "accepted": 9, "failed": 1, "unmapped": 0}
    report["issues"].append({"line": 3, "column": "C_EmailAddress", "value": "john@acmepublishing.com",
                             "code": "target.rejected", "severity": "error",
                             "message": "DUPLICATE_VALUE: duplicate value found: Email", "fixed": None})
    out = tmp_path / "push.html"
    out.write_text(to_html(report), encoding="utf-8")
    page = opened(out)
    assert [page.count(k) for k in ("uploaded", "accepted", "failed")] == [10, 9, 1]
    assert page.page.inner_text("#fact-push") == "demo / contacts"
    cell = page.cell(3, "C_EmailAddress")
    assert "target" in cell.get_attribute("class")
    assert cell.get_attribute("title") == "target's verdict — target.rejected: DUPLICATE_VALUE: duplicate value found: Email"
    assert cell.locator(".icon").inner_text() == "◎"


def test_report_of_a_json_report(opened: Any, tmp_path: Path) -> None:
    _, report = seed_reports(tmp_path)
    out = tmp_path / "again.html"
    run(["report", str(tmp_path / "seed.json"), "-o", str(out)])
    page = opened(out)
    shows_report(page, report)
    assert page.cell(4, "C_BusPhone").locator(".value.old").inner_text() == "444) 444-1234"


def test_messy_corpus_file(opened: Any, tmp_path: Path) -> None:
    if not MESSY.is_file():
        pytest.skip(f"the shared corpus is not at {MESSY.parent.parent}")
    html, js = tmp_path / "messy.html", tmp_path / "messy.json"
    run(["clean", str(MESSY), "-O", "contact", "-o", str(tmp_path / "c.csv"), "--report", str(html),
         "--report", str(js), "-q"])
    report = json.loads(js.read_text(encoding="utf-8"))
    page = opened(html)
    shows_report(page, report)
    rowish = {i["line"] for i in report["issues"] if i["line"] is not None and not i["code"].startswith("header.")}
    assert page.page.inner_text("#status").endswith(f"({len(rowish)} in the grid)")
    page.page.check("#f-errors")
    assert set(page.lines()) <= {i["line"] for i in report["issues"] if i["severity"] == "error"}
    shot = tmp_path / "messy.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert not blank(shot)


def blank(png: Path) -> bool:
    """True when the PNG is one colour (few distinct bytes in its pixel data)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    pixels = zlib.decompress(idat)
    return len(set(pixels)) < 16 or len(pixels) < 10_000


def test_blank_sees_a_blank_page(browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    page.set_content("<html><body style='background:#fff'></body></html>")
    shot = tmp_path / "blank.png"
    page.screenshot(path=str(shot))
    page.close()
    assert blank(shot)



def test_push_report_shows_the_targets_verdicts(opened: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real push to the bulk-API emulator on 127.0.0.1, its JSON report turned into HTML."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bulk_emulator import ELEMENT, USER, Emulator

    from csvprep.connectors import hub

    emu = Emulator().start()
    try:
        monkeypatch.setattr(hub, "BACKOFF", 0.01)
        for name, value in (("CSVPREP_USER_SECRET", USER), ("CSVPREP_ELEMENT_TOKEN", ELEMENT),
                            ("CSVPREP_ORG_SECRET", "org-secret-9999"), ("CSVPREP_BASE_URL", emu.url)):
            monkeypatch.setenv(name, value)
        src = tmp_path / "contacts.csv"
        emails = [f"person{i}@blocked.example" if i % 4 == 1 else f"person{i}@ok.example" for i in range(12)]
        emails[6] = "nobody-at-nowhere"  # rejected by csvprep before the upload: its issue names the source column
        src.write_text("Email Address,First Name\n" + "".join(f"{e},P{i}\n" for i, e in enumerate(emails)),
                       encoding="utf-8")
        js, out = tmp_path / "push.json", tmp_path / "push.html"
        run(["push", str(src), "--object", "contact", "--report", str(js), "--poll-interval", "0.01s"])
    finally:
        emu.stop()
    report = json.loads(js.read_text(encoding="utf-8"))
    run(["report", str(js), "-o", str(out)])
    page = opened(out)
    shows_report(page, report)
    push = report["push"]
    assert [page.count(k) for k in ("uploaded", "accepted", "failed")] == [push[k] for k in ("uploaded", "accepted", "failed")]
    verdicts = [i for i in report["issues"] if i["code"] == "target.rejected" and i["line"] is not None]
    assert verdicts and all(i["column"] == "C_EmailAddress" for i in verdicts)
    assert "C_EmailAddress" not in page.page.locator("#grid thead").inner_text()
    assert "error" in page.cell(8, "Email Address").get_attribute("class")  # csvprep's own verdict
    for issue in verdicts:
        cell = page.cell(issue["line"], "Email Address")  # on the source column that fed the target's field
        assert "target" in cell.get_attribute("class") and cell.locator(".icon").inner_text() == "◎"
        assert f"target's verdict — target.rejected: {issue['message']}" in cell.get_attribute("title").split("\n")
