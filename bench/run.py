"""Benchmark `csvprep clean --object contact` against a plain polars read_csv + write_csv.

    python bench/run.py --rows 1000000 --runs 5
    python bench/run.py --rows 1000000 --runs 5 --no-schema    # also: the floor without the checks
    python bench/run.py --rows 10000000 --runs 1 --skip-baseline   # memory check
    python bench/run.py --rows 1000000 --runs 7 --compare 86efacf  # this tree against a commit

Generates bench/data/contacts-<N>.csv deterministically when it is missing (bench/gen.py), then
runs both commands as child processes, alternating, and reports for each the median wall time
(process start to exit, imports included), rows/s, MB/s and peak RSS (ru_maxrss of the child from
os.wait4), plus the ratio of the medians. `--compare REV` runs the same `csvprep clean` with the
code of git revision REV too (a temporary worktree, this environment), in the same alternation:
the way to tell whether a change made csvprep faster, as the VM's speed drifts between
invocations. Not a test: nothing fails on a slow machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen  # noqa: E402

BASELINE = ("import sys, polars as pl\n"
            "pl.read_csv(sys.argv[1], infer_schema=False).write_csv(sys.argv[2])\n")
BASE = "polars read_csv+write_csv"
CSVPREP_NAME = "csvprep clean"
FLOOR = "csvprep clean, no schema"
CSVPREP = "import sys\nfrom csvprep.cli import cli\nsys.argv[0] = 'csvprep'\ncli()\n"


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in bytes, exit code, CPU seconds) of one child process."""
    start = time.perf_counter()
    # from a neutral folder: `python -c` puts the current folder first on sys.path
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({proc.returncode}): {err.strip()[-2000:]}")
    return wall, usage.ru_maxrss * 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of each command (median reported)")
    ap.add_argument("--chunk-size", default=None, help="csvprep --chunk-size (default: csvprep's)")
    ap.add_argument("--file", type=Path, help="use this CSV instead of a generated one")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--no-schema", action="store_true",
                    help="also time `csvprep clean` without --object (reading, formula check, writing: "
                         "the floor under the contact checks)")
    ap.add_argument("--compare", metavar="REV",
                    help="also time `csvprep clean` as of this git revision (from a temporary worktree)")
    a = ap.parse_args(argv)

    import polars as pl

    path = (a.file or gen.default_path(a.rows)).resolve()  # the children run in another folder
    if not path.exists():
        t = time.perf_counter()
        gen.generate(a.rows, path)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    size = path.stat().st_size
    rows = a.rows if a.file is None else None
    with tempfile.TemporaryDirectory(dir=path.parent, prefix="out-") as tmp:
        out = Path(tmp)
        chunk = ["--chunk-size", a.chunk_size] if a.chunk_size else []
        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {}
        if not a.skip_baseline:
            commands[BASE] = ([sys.executable, "-c", BASELINE, str(path), str(out / "baseline.csv")], None)
        prep = [sys.executable, "-c", CSVPREP, "clean", str(path), "--object", "contact",
                "-o", str(out / "clean.csv"), "--quiet", *chunk]
        commands[CSVPREP_NAME] = (prep, None)
        if a.no_schema:
            commands[FLOOR] = ([sys.executable, "-c", CSVPREP, "clean", str(path), "-o", str(out / "floor.csv"),
                                "--quiet", *chunk], None)
        tree = out / "compare"
        try:
            if a.compare:
                subprocess.run(["git", "-C", str(HERE.parent), "worktree", "add", "--detach", "-q", str(tree),
                                a.compare], check=True)
                # the same command, with that revision's csvprep package found before the installed one
                env = {**os.environ, "PYTHONPATH": str(tree)}
                found = subprocess.run([sys.executable, "-c", "import csvprep; print(csvprep.__file__)"], env=env,
                                       capture_output=True, text=True, check=True,
                                       cwd=tempfile.gettempdir()).stdout.strip()
                if not Path(found).resolve().is_relative_to(tree.resolve()):
                    raise SystemExit(f"--compare: the worktree's csvprep is not the one imported ({found})")
                commands[f"{CSVPREP_NAME} @{a.compare}"] = (prep, env)
            results: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
            for i in range(a.runs):
                for name, (cmd, env) in commands.items():
                    wall, rss, code, cpu = run(cmd, env)
                    results[name].append((wall, rss, cpu))
                    print(f"run {i + 1}: {name:34s} {wall:6.2f} s  cpu {cpu:6.2f} s  {rss / 2**20:7.0f} MB"
                          f"  (exit {code})", file=sys.stderr)
        finally:
            if a.compare:
                subprocess.run(["git", "-C", str(HERE.parent), "worktree", "remove", "--force", str(tree)], check=False)
        if rows is None:
            rows = pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()
    here = subprocess.run([sys.executable, "-c", "import csvprep; print(csvprep.__file__)"], capture_output=True,
                          text=True, cwd=tempfile.gettempdir()).stdout.strip()
    print(f"machine: {machine()}; polars {pl.__version__}; csvprep from {Path(here).parent}")
    print(f"file:    {path.name}, {rows:,} rows, {size / 1e6:.1f} MB; {a.runs} run(s) each, median")
    print(f"{'command':34s} {'median s':>9s} {'CPU s':>7s} {'rows/s':>12s} {'MB/s':>8s} {'peak RSS':>10s}")
    medians, cpus = {}, {}
    for name, rs in results.items():
        med = statistics.median(w for w, _, _ in rs)
        medians[name] = med
        cpus[name] = statistics.median(c for _, _, c in rs)
        peak = max(r for _, r, _ in rs)
        print(f"{name:34s} {med:9.2f} {cpus[name]:7.2f} {rows / med:12,.0f} {size / 1e6 / med:8.1f} "
              f"{peak / 2**20:8.0f} MB")
    for name in medians:
        if name != BASE and BASE in medians:
            print(f"ratio {name} / polars: {medians[name] / medians[BASE]:.2f} (wall), "
                  f"{cpus[name] / cpus[BASE]:.2f} (CPU time: less sensitive to other load)")
    if a.compare:
        old = f"{CSVPREP_NAME} @{a.compare}"
        print(f"ratio {CSVPREP_NAME} (this tree) / @{a.compare}: {medians[CSVPREP_NAME] / medians[old]:.3f} (wall), "
              f"{cpus[CSVPREP_NAME] / cpus[old]:.3f} (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
