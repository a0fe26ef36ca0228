"""Time csvprep.ray against one process on the same file: the overhead ratio and the shuffle's cost.

    python bench/ray_bench.py [--rows 1000000 10000000] [--range-mb 64] [--cpus 2] [--repeat 1]

Generates bench/data/contacts-N.csv with bench/gen.py when missing, then per file: the
single-process `clean_file` and `csvprep.ray.clean` (local Ray with --cpus CPUs, started
once and timed apart) on the contact schema; checks both give the same counts; prints wall
seconds, the ratio, the Ray run's phases (report outputs.timings) and the per-range cost.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import csvprep  # noqa: E402
from gen import default_path, generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--range-mb", type=int, default=64)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)

    import ray

    import csvprep.ray as engine

    began = time.perf_counter()
    ray.init(num_cpus=args.cpus, runtime_env={"env_vars": {"PYTHONPATH": str(HERE.parent)}},
             logging_level="WARNING", include_dashboard=False)
    print(f"ray.init(num_cpus={args.cpus}): {time.perf_counter() - began:.1f} s")
    warm = Path(tempfile.mkdtemp(prefix="csvprep-ray-bench-"))
    try:
        sample = HERE.parent / "sample-data" / "contact.tsv"
        began = time.perf_counter()
        engine.clean(sample, object="contact", output=warm / "warm")  # workers start, import polars/pandera
        print(f"first run (worker start-up): {time.perf_counter() - began:.1f} s")
        for rows in args.rows:
            path = default_path(rows)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                generate(rows, path)
            size = path.stat().st_size
            for _ in range(args.repeat):
                out = warm / f"single-{rows}"
                out.mkdir(exist_ok=True)
                t = time.perf_counter()
                ref = csvprep.clean_file(path, out / "clean.csv", object="contact")
                single = time.perf_counter() - t
                t = time.perf_counter()
                got = engine.clean(path, object="contact", output=warm / f"ray-{rows}", range_bytes=args.range_mb << 20)
                on_ray = time.perf_counter() - t
                assert (got.read, got.clean, got.rejected) == (ref.read, ref.clean, ref.rejected)
                tm = got.outputs["timings"]
                tasks = int(got.outputs["engine"].split()[1])
                per_range = tm["check_task_seconds"] / tasks
                print(f"{rows:>10,} rows, {size / 1e6:,.0f} MB: single {single:.1f} s, ray {on_ray:.1f} s, "
                      f"ratio {on_ray / single:.2f}; {tasks} ranges of {args.range_mb} MB, "
                      f"{per_range:.2f} s checking + {tm['finish_task_seconds'] / tasks:.2f} s finishing per range; "
                      f"shuffle {tm.get('shuffle', 0):.2f} s wall for {tm.get('shuffle_candidates', 0):,} key "
                      f"candidates ({tm.get('shuffle_task_seconds', 0):.2f} s in tasks); phases {tm}")
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(warm / f"ray-{rows}", ignore_errors=True)
    finally:
        shutil.rmtree(warm, ignore_errors=True)
        ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
