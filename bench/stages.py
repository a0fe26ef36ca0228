"""Where the time of `csvprep clean --object contact` goes, stage by stage, in one thread.

    python bench/stages.py --rows 1000000 [--profile reject-heavy]

Times, one after another in this process (no overlap, unlike the CLI's two batch workers): the
imports, reading every batch, each field type's normalisation, pandera's checks, the rules and
the formula check per batch, key duplicates and the split, writing the clean and rejects files.
CPU-bound stages add up to roughly the CLI's CPU time. Not a test.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

T0 = time.perf_counter()
import polars as pl  # noqa: E402

from csvprep import formula  # noqa: E402
from csvprep.issues import compact_issues  # noqa: E402
from csvprep.options import CHUNK_BYTES  # noqa: E402
from csvprep.reader import CsvReader  # noqa: E402
from csvprep.rules import RULES  # noqa: E402
from csvprep.schema import load_schema  # noqa: E402
from csvprep.fields import TYPES, normalise_distinct  # noqa: E402
from csvprep.validate import Validator  # noqa: E402
from csvprep.writer import CsvSink, PartedCsvSink  # noqa: E402

IMPORTS = time.perf_counter() - T0
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk-bytes", type=int, default=CHUNK_BYTES)
    ap.add_argument("--profile", choices=gen.PROFILES, default="default", help="bench/gen.py profile")
    a = ap.parse_args(argv)
    path = gen.default_path(a.rows, a.profile)
    if not path.exists():
        gen.generate(a.rows, path, profile=a.profile)
    times: dict[str, float] = defaultdict(float)
    times["imports"] = IMPORTS

    def timed(name: str, fn, *args):
        t = time.perf_counter()
        out = fn(*args)
        times[name] += time.perf_counter() - t
        return out

    reader = timed("read", CsvReader, path, None, None, a.chunk_bytes)
    batches = timed("read", list, reader.batches())
    schema = load_schema("contact")
    v = Validator(schema, reader.info.header, reader.info.header_line)
    with tempfile.TemporaryDirectory() as tmp:
        clean = PartedCsvSink(Path(tmp) / "clean.csv", v.output_columns, ",", "\n", None, 32 << 20)
        rejects = CsvSink(Path(tmp) / "clean.rejects.csv", ["_line", "_reasons", *v.header, "_raw"])
        for batch in batches:
            for f in v.fields:  # the types alone, as prepare runs them
                timed(f"type {f.type}", normalise_distinct, TYPES[f.type], batch.rows[v.map.columns[f.name]], f, v.options)
            normalised, _ = v.apply_types(batch.rows)
            timed("pandera checks", v.pandera_issues, batch.rows, normalised)
            for r in schema.rules:
                timed(f"rule {r.type}", RULES[r.type], normalised, r)
            timed("formula check", formula.guard, batch.rows, normalised,
                  {f.name: v.map.columns[f.name] for f in v.fields}, False)
            done = timed("keys, split, issue rows", lambda b: v.finish(v.prepare(b)), batch)  # includes a second prepare: subtracted below
            timed("compact issues", compact_issues, done.issues)
            timed("write", clean.write, done.clean)
            timed("write", rejects.write, done.rejects)
        timed("write", clean.commit)
        timed("write", rejects.commit)
    prepare = sum(t for k, t in times.items() if k.startswith(("type ", "rule ", "pandera", "formula")))
    times["keys, split, issue rows"] = max(0.0, times["keys, split, issue rows"] - prepare)
    total = sum(times.values())
    print(f"{path.name}: {a.rows:,} rows, chunks of {a.chunk_bytes / 2**20:.0f} MB, one thread; polars {pl.__version__}")
    for name, t in sorted(times.items(), key=lambda kv: -kv[1]):
        print(f"{name:24s} {t:6.2f} s  {100 * t / total:5.1f}%")
    print(f"{'total':24s} {total:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
