"""Benchmark `csvprep clean --object contact` against a plain polars read_csv + write_csv.

    python bench/run.py --rows 1000000 --runs 5
    python bench/run.py --rows 1000000 --runs 5 --no-schema    # also: the floor without the checks
    python bench/run.py --rows 10000000 --runs 1 --skip-baseline   # memory check
    python bench/run.py --rows 1000000 --runs 7 --compare 86efacf  # this tree against a commit
    python bench/run.py --rows 1000000 --runs 3 --profile all       # every bench/gen.py profile

Generates bench/data/contacts[-<profile>]-<N>.csv deterministically when it is missing
(bench/gen.py), then runs both commands as child processes, alternating, and reports for each
the median wall time (process start to exit, imports included), rows/s, MB/s and peak RSS, plus
the ratio of the medians. `--profile NAME` (repeatable, or `all`) times each profile's file in
the same alternation and ends with one table of the ratios, each also relative to the default
profile's. Peak RSS is each command's own: every command is started by a small launcher process
that reports the ru_maxrss of its one child (Linux counts in a child's ru_maxrss the memory of the
process it was forked from, so a child forked by this script after it generated a file showed
this script's peak). `--compare REV` runs the same `csvprep clean` with the
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
# a small process that starts the command, waits for it and prints its wall time and resource
# usage: the command is forked from this launcher (a few MB), not from the benchmark's process
LAUNCHER = ("import os, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "_, status, u = os.wait4(p.pid, 0)\n"
            "print(time.perf_counter() - t, u.ru_maxrss * 1024, os.waitstatus_to_exitcode(status),"
            " u.ru_utime + u.ru_stime)\n")


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in bytes, exit code, CPU seconds) of one child process."""
    # from a neutral folder: `python -c` puts the current folder first on sys.path
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, env=env,
                          cwd=tempfile.gettempdir())
    err = proc.stderr.decode(errors="replace")
    try:
        wall, rss, code, cpu = proc.stdout.split()
    except ValueError:
        raise SystemExit(f"{' '.join(cmd[:3])}... launcher failed ({proc.returncode}): {err.strip()[-2000:]}")
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({int(code)}): {err.strip()[-2000:]}")
    return float(wall), int(rss), int(code), float(cpu)


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
    ap.add_argument("--profile", action="append", choices=[*gen.PROFILES, "all"],
                    help="bench/gen.py profile of the generated file (repeatable; `all`: every one); default: default")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--no-schema", action="store_true",
                    help="also time `csvprep clean` without --object (reading, formula check, writing: "
                         "the floor under the contact checks)")
    ap.add_argument("--compare", metavar="REV",
                    help="also time `csvprep clean` as of this git revision (from a temporary worktree)")
    a = ap.parse_args(argv)

    import polars as pl

    profiles = list(gen.PROFILES) if "all" in (a.profile or []) else list(dict.fromkeys(a.profile or ["default"]))
    if a.file:
        profiles = ["file"]
    paths = {}
    for profile in profiles:
        path = (a.file or gen.default_path(a.rows, profile)).resolve()  # the children run in another folder
        if not path.exists():
            t = time.perf_counter()
            gen.generate(a.rows, path, profile=profile)
            print(f"generated {path} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        paths[profile] = path
    with tempfile.TemporaryDirectory(dir=paths[profiles[0]].parent, prefix="out-") as tmp:
        out = Path(tmp)
        chunk = ["--chunk-size", a.chunk_size] if a.chunk_size else []
        commands: dict[tuple[str, str], tuple[list[str], dict[str, str] | None]] = {}
        tree = out / "compare"
        try:
            # this tree's csvprep, found before an installed one (an editable install of another checkout)
            here_env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
            env = None
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
            for profile, path in paths.items():
                if not a.skip_baseline:
                    commands[profile, BASE] = ([sys.executable, "-c", BASELINE, str(path), str(out / "baseline.csv")],
                                               None)
                prep = [sys.executable, "-c", CSVPREP, "clean", str(path), "--object", "contact",
                        "-o", str(out / "clean.csv"), "--quiet", *chunk]
                commands[profile, CSVPREP_NAME] = (prep, here_env)
                if a.no_schema:
                    commands[profile, FLOOR] = ([sys.executable, "-c", CSVPREP, "clean", str(path), "-o",
                                                 str(out / "floor.csv"), "--quiet", *chunk], here_env)
                if a.compare:
                    commands[profile, f"{CSVPREP_NAME} @{a.compare}"] = (prep, env)
            results: dict[tuple[str, str], list[tuple[float, int, float]]] = {key: [] for key in commands}
            for i in range(a.runs):
                for (profile, name), (cmd, cmd_env) in commands.items():
                    wall, rss, code, cpu = run(cmd, cmd_env)
                    results[profile, name].append((wall, rss, cpu))
                    print(f"run {i + 1}: {profile:13s} {name:34s} {wall:6.2f} s  cpu {cpu:6.2f} s  "
                          f"{rss / 2**20:7.0f} MB  (exit {code})", file=sys.stderr)
        finally:
            if a.compare:
                subprocess.run(["git", "-C", str(HERE.parent), "worktree", "remove", "--force", str(tree)], check=False)
    here = subprocess.run([sys.executable, "-c", "import csvprep; print(csvprep.__file__)"], capture_output=True,
                          text=True, cwd=tempfile.gettempdir(), env=here_env).stdout.strip()
    print(f"machine: {machine()}; polars {pl.__version__}; csvprep from {Path(here).parent}")
    medians, cpus = {}, {}
    for profile, path in paths.items():
        rows = a.rows if a.file is None else pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()
        size = path.stat().st_size
        print(f"\nfile:    {path.name} (profile {profile}), {rows:,} rows, {size / 1e6:.1f} MB; "
              f"{a.runs} run(s) each, median")
        print(f"{'command':34s} {'median s':>9s} {'CPU s':>7s} {'rows/s':>12s} {'MB/s':>8s} {'peak RSS':>10s}")
        for (p, name), rs in results.items():
            if p != profile:
                continue
            med = medians[p, name] = statistics.median(w for w, _, _ in rs)
            cpus[p, name] = statistics.median(c for _, _, c in rs)
            peak = max(r for _, r, _ in rs)
            print(f"{name:34s} {med:9.2f} {cpus[p, name]:7.2f} {rows / med:12,.0f} {size / 1e6 / med:8.1f} "
                  f"{peak / 2**20:8.0f} MB")
        for (p, name) in list(medians):
            if p == profile and name != BASE and (p, BASE) in medians:
                print(f"ratio {name} / polars: {medians[p, name] / medians[p, BASE]:.2f} (wall), "
                      f"{cpus[p, name] / cpus[p, BASE]:.2f} (CPU time: less sensitive to other load)")
        if a.compare:
            old = (profile, f"{CSVPREP_NAME} @{a.compare}")
            new = (profile, CSVPREP_NAME)
            print(f"ratio {CSVPREP_NAME} (this tree) / @{a.compare}: {medians[new] / medians[old]:.3f} (wall), "
                  f"{cpus[new] / cpus[old]:.3f} (CPU)")
    if len(paths) > 1 and not a.skip_baseline:
        ref = "default" if "default" in paths else profiles[0]
        print(f"\n{'profile':13s} {'polars s':>9s} {'csvprep s':>10s} {'ratio':>7s} {'CPU ratio':>10s} "
              f"{'/ ' + ref:>12s} {'CPU / ' + ref:>14s} {'csvprep RSS':>12s}")
        for profile in paths:
            base, prep = (profile, BASE), (profile, CSVPREP_NAME)
            ratio = medians[prep] / medians[base]
            rel = ratio / (medians[ref, CSVPREP_NAME] / medians[ref, BASE])
            cpu_rel = cpus[prep] / cpus[base] / (cpus[ref, CSVPREP_NAME] / cpus[ref, BASE])
            peak = max(r for _, r, _ in results[prep])
            print(f"{profile:13s} {medians[base]:9.2f} {medians[prep]:10.2f} {ratio:6.2f}x "
                  f"{cpus[prep] / cpus[base]:9.2f}x {rel:11.2f}x {cpu_rel:13.2f}x {peak / 2**20:9.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
