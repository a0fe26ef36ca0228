"""csvprep's checks on a Ray cluster (`pip install 'csvprep[ray]'`), with the results of one process."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import polars as pl

from . import ranges
from .api import SchemaArg, resolve_schema
from .errors import CsvprepError, EngineError, InputError, OutputError, SettingsError
from .issues import LINE, RAW, REASONS, compact_issues, expand_issues, issues_frame
from .options import Options
from .reader import CsvReader, ReadInfo
from .report import Report
from .schema import Schema
from .sniff import Encoding
from .validate import BatchResult, Validator, first_occurrences, validate_batch
from .writer import AtomicFile, csv_bytes, open_sink

__all__ = ["RANGE_BYTES", "clean"]

RANGE_BYTES = 64 << 20  # bytes of a file per task
RETRIES = 3  # a task whose worker died runs again (its outputs are written atomically)
HEAD_BYTES = 4 << 20  # the header must end in the file's first bytes for the file to be cut
SUFFIXES = {".csv", ".tsv", ".txt", ".psv", ".tab"}  # the files of a folder that are read

OnTask = Callable[[str, int], None]


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError()
    return ray


@dataclass
class _File:
    """One source file as planned on a worker: how it reads and where it is cut."""

    index: int
    path: str
    info: ReadInfo
    encoding: Encoding
    issues: list[dict[str, Any]]
    starts: list[int] = field(default_factory=list)  # raw ranges to scan (empty: one task)
    note: str | None = None  # why the file is read by one task
    spans: list[ranges.Span] = field(default_factory=list)
    begin: int = 0  # the byte after the header
    begin_line: int = 0


def sources_of(sources: str | os.PathLike | list[str | os.PathLike]) -> list[Path]:
    """The files of `sources`: a file, a list of files, or a folder (its CSV files, by name)."""
    items = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")
                           and f.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"{p}: the folder holds no .csv, .tsv or .txt file")
            files.extend(found)
        else:
            files.append(p)
    if not files:
        raise InputError("no source files given")
    return files


def _reader(path: str, options: Options) -> CsvReader:
    return CsvReader(path, encoding=options.encoding, delimiter=options.delimiter, chunk_bytes=options.chunk_bytes)


def _plan_file(index: int, path: str, options: Options, range_bytes: int) -> _File:
    """Read a file's start (encoding, dialect, header) and say where its ranges start."""
    # the header, title rows and dialect come from the sniffed sample: a small first chunk will do
    reader = CsvReader(path, encoding=options.encoding, delimiter=options.delimiter,
                       chunk_bytes=min(options.chunk_bytes, 1 << 20))
    info = reader.info
    f = _File(index, path, info, reader.encoding, list(info.issues))
    size = info.size or 0
    if size < 2 * range_bytes:
        return f
    why = ranges.splittable(reader.encoding, info.dialect)
    bom = reader.encoding.bom
    head = _read(path, bom, min(size, bom + HEAD_BYTES))
    end = None if why else ranges.header_end(head, head.decode(reader.encoding.name, errors="replace"),
                                              info.header_line, reader._csv_kwargs())
    if end is None:
        f.note = f"read by one task: {why or 'its header does not end in its first bytes'}"
        return f
    f.begin, f.begin_line = bom + end[0], end[1]
    f.starts = list(range(f.begin, size, range_bytes))
    return f


class _Wire:
    """A polars frame as an Arrow table on its way between tasks: Ray moves Arrow buffers
    without copying them into a pickle (polars' own pickling is many times slower)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        try:
            self.table: Any = frame.to_arrow()
        except ImportError:  # no pyarrow (ray without its data extra): pickled by polars
            self.table = frame

    def frame(self) -> pl.DataFrame:
        if isinstance(self.table, pl.DataFrame):
            return self.table
        out = pl.from_arrow(self.table)
        assert isinstance(out, pl.DataFrame)
        return out


def _wire(r: BatchResult) -> BatchResult:
    return replace(r, **{f.name: _Wire(getattr(r, f.name)) for f in fields(r)
                         if isinstance(getattr(r, f.name), pl.DataFrame)})


def _unwire(r: BatchResult) -> BatchResult:
    return replace(r, **{f.name: getattr(r, f.name).frame() for f in fields(r)
                         if isinstance(getattr(r, f.name), _Wire)})


def _read(path: str, start: int, end: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(end - start)


def _scan(path: str, start: int, end: int, quote: bytes | None) -> ranges.RangeScan:
    return ranges.scan(_read(path, start, end), quote)


def _validate(f: _File, k: int, span: ranges.Span | None, schema: Schema | None, options: Options,
              partitions: int, on_task: OnTask | None) -> tuple[Any, ...]:
    """Read and check one span (None: the whole file); returns a summary, the batch results and
    the key candidates split into `partitions` by hash."""
    if on_task is not None:
        on_task(f.path, k)
    began = time.perf_counter()
    if span is None:
        reader = _reader(f.path, options)
    else:
        reader = CsvReader.span(_read(f.path, span.start, span.end), f.info, f.encoding, span.first_line,
                                options.chunk_bytes)
    header, header_line = f.info.header, f.info.header_line
    results: list[BatchResult] = []
    last_line, open_at = 0, 0
    for batch in reader.batches():
        results.append(validate_batch(batch.rows, schema, header, options, bad=batch.bad,
                                      warnings=batch.warnings, header_line=header_line))
        lines = pl.concat([batch.rows[LINE], batch.bad[LINE]])
        if lines.len():
            last_line = max(last_line, int(lines.max()))  # type: ignore[arg-type]
        unterminated = batch.bad.filter(pl.col("code") == "row.unterminated_quote")[LINE]
        if unterminated.len():
            open_at = max(open_at, int(unterminated.max()))  # type: ignore[arg-type]
    firsts = [r.key_firsts for r in results if r.key_firsts is not None and r.key_firsts.height]
    parts: list[_Wire | None] = [None] * partitions
    if firsts:
        cand = pl.concat([c.drop("first") for c in firsts]).with_columns(_source=pl.lit(f.index, pl.Int64))
        cand = cand.with_columns(_p=(pl.col("_h") % partitions).cast(pl.Int64))
        for (p,), group in cand.group_by(["_p"]):
            parts[int(p)] = _Wire(group.drop("_p", "_h"))  # type: ignore[call-overload]
    summary = {"read": sum(r.read for r in results), "open_at_end": bool(open_at and open_at == last_line),
               "seconds": time.perf_counter() - began}
    return (summary, [_wire(r) for r in results], *parts)


def _resolve(key: list[str], *parts: _Wire | None) -> tuple[_Wire, int, float]:
    """One hash partition of every range's key candidates -> (the later occurrences, the
    candidates, seconds)."""
    began = time.perf_counter()
    found = [f for f in (p.frame() for p in parts if p is not None) if f.height]
    cand = pl.concat(found, how="vertical_relaxed") if found else pl.DataFrame(
        schema={"_source": pl.Int64, LINE: pl.Int64, **{k: pl.String for k in key}})
    return _Wire(first_occurrences(cand, key)), cand.height, time.perf_counter() - began


def _finish(f: _File, k: int, wired: list[BatchResult], dups_wired: _Wire, names: list[str],
            schema: Schema | None, options: Options, tmp: str) -> dict[str, Any]:
    """Apply the dataset's key duplicates to one span's batches and write its clean parts and
    rejected rows under `tmp`; returns the counts, the files and the compacted issues."""
    began = time.perf_counter()
    results, dups = [_unwire(r) for r in wired], dups_wired.frame()
    validator = Validator(schema, f.info.header, f.info.header_line, options)
    conf = dict(schema.output) if schema else {}
    base = Path(tmp) / f"{f.index:06d}-{k:06d}.csv"
    sink = open_sink("csv", base, validator.output_columns, options, conf)
    rejects = AtomicFile(Path(tmp) / f"{f.index:06d}-{k:06d}.rejects")
    issues, clean_n, rejected_n = [], 0, 0
    late = dups.filter(pl.col("_source") == f.index).select(
        pl.col(LINE).alias("first"), pl.col("first").alias("_first"), pl.col("first_source").alias("_fs"))
    try:
        for r in results:
            cand = r.keys
            if cand is not None and late.height:
                cand = cand.join(late, on="first", how="left", maintain_order="left").with_columns(
                    first=pl.coalesce("_first", "first"),
                    first_file=pl.when(pl.col("_fs").is_not_null() & (pl.col("_fs") != f.index))
                    .then(pl.col("_fs").replace_strict(dict(enumerate(names)), return_dtype=pl.String, default=None))
                    .otherwise(pl.lit(None, pl.String))).drop("_first", "_fs")
            clean, rej, found = validator.with_duplicates(r, cand)
            sink.write(clean.drop(LINE))
            with rejects.writing() as fh:
                fh.write(csv_bytes(rej.select(LINE, REASONS, *f.info.header, RAW), ",", "\n"))
            issues.append(compact_issues(found))
            clean_n += clean.height
            rejected_n += rej.height
        sink.commit()
        rejects.commit()
    except BaseException:
        sink.discard()
        rejects.discard()
        raise
    paths = [str(p) for p in sink.final_paths()]
    return {"parts": paths, "rows": clean_n, "rejected": rejected_n, "read": sum(r.read for r in results),
            "rejects": str(rejects.path), "issues": issues, "seconds": time.perf_counter() - began}


def _unwrap(ray: Any, refs: Any) -> Any:
    """ray.get, raising csvprep's own error of a task as itself."""
    try:
        return ray.get(refs)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, CsvprepError):
            raise cause from None
        raise


def _names(files: list[Path]) -> list[str]:
    """A distinct output stem per source file (a repeated stem gets its position)."""
    stems = [p.stem for p in files]
    return [s if stems.count(s) == 1 else f"{s}-{i + 1}" for i, s in enumerate(stems)]


def clean(sources: str | os.PathLike | list[str | os.PathLike], object: str | None = None, schema: SchemaArg = None,
          connector: str | None = None, *, output: str | os.PathLike, options: Options | None = None,
          address: str | None = None, range_bytes: int = RANGE_BYTES, partitions: int | None = None,
          on_task: OnTask | None = None, **settings: Any) -> Report:
    """Check and clean `sources` (a file, a list of files or a folder) on Ray, into the folder `output`.

    Every file is read with csvprep's reader; a large file is cut into ranges of about
    `range_bytes` that start on record boundaries (a first parallel pass counts each range's
    line breaks and quotes) and are checked in parallel. Key duplicates are found across all
    files by a shuffle of the key candidates over `partitions` hash partitions: the first
    occurrence in source order (file order, then line) stays clean, as in one process.
    Writes `STEM.part-NNNNN.csv` clean parts (within the schema's or the options' part
    limits), `STEM.rejects.csv` per source and `report.json`, each atomically. Connects to
    the cluster at `address` (local Ray when None and none is running). `on_task(path,
    range)` is called at the start of every range task, on its worker (tests make one die).
    """
    ray = _ray()
    opts = replace(Options.build(options, **settings), progress=None)  # a callback would run on the workers
    if opts.output_format != "csv":
        raise OutputError("the ray engine writes CSV parts only: drop --format jsonl or use the default engine")
    unsupported = [name for name, given in (("--seen", opts.seen), ("--no-header", opts.no_header),
                                            ("--columns", opts.columns), ("--skip-lines", opts.skip_lines)) if given]
    if unsupported:  # refused, not ignored: an ignored --seen would let duplicates through
        raise SettingsError(f"{', '.join(unsupported)}: not supported by the ray engine yet: use the default engine")
    files = sources_of(sources)
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: with --engine ray the output is a folder, and this is a file: choose another name")
    out.mkdir(parents=True, exist_ok=True)
    target = resolve_schema(object, schema, connector, opts)
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, logging_level="WARNING")
    if partitions is None:
        partitions = max(2, int(ray.cluster_resources().get("CPU", 2)))
    task = {"max_retries": RETRIES, "retry_exceptions": False}
    plan_t = ray.remote(_plan_file).options(**task)
    scan_t = ray.remote(_scan).options(**task)
    check_t = ray.remote(_validate).options(num_returns=partitions + 2, **task)
    resolve_t = ray.remote(_resolve).options(**task)
    finish_t = ray.remote(_finish).options(**task)

    clock = [time.perf_counter()]
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    planned: list[_File] = _unwrap(ray, [plan_t.remote(i, str(p), opts, range_bytes) for i, p in enumerate(files)])
    scans = {f.index: [scan_t.remote(f.path, a, min(a + range_bytes, f.info.size or 0),
                                     ranges.quote_byte(f.encoding, f.info.dialect)) for a in f.starts]
             for f in planned if f.starts}
    for f in planned:
        f.spans = ranges.plan(f.starts, _unwrap(ray, scans[f.index]), f.begin_line) if f.index in scans else []

    lap("plan_and_scan")

    def submit(f: _File, k: int, span: ranges.Span | None) -> list[Any]:
        return check_t.remote(f, k, span, target, opts, partitions, on_task)

    work: list[tuple[_File, int, ranges.Span | None, list[Any]]] = []
    for f in planned:
        spans: list[ranges.Span | None] = list(f.spans) if len(f.spans) > 1 else [None]
        work += [(f, k, s, submit(f, k, s)) for k, s in enumerate(spans)]
    summaries = _unwrap(ray, [w[3][0] for w in work])
    # a cut inside a quoted cell shows as an unterminated quote at the end of the range before
    # it: that file (a stray quote made the count wrong, or a quote never closes) is read whole
    wrong = {w[0].index for w, s in zip(work, summaries) if s["open_at_end"] and w[2] is not None
             and w[2].end < (w[0].info.size or 0)}
    if wrong:
        kept = [(w, s) for w, s in zip(work, summaries) if w[0].index not in wrong]
        for f in planned:
            if f.index in wrong:
                f.note, f.spans = "read by one task: its quoting leaves a cut inside a quoted cell", []
                redo = (f, 0, None, submit(f, 0, None))
                kept.append((redo, _unwrap(ray, redo[3][0])))
        kept.sort(key=lambda ws: (ws[0][0].index, ws[0][1]))
        work = [w for w, _ in kept]

    lap("check")
    timings["check_task_seconds"] = round(sum(s["seconds"] for s in summaries), 3)
    keyed = [Validator(target, f.info.header, f.info.header_line, opts) for f in planned]
    key = next((v.key for v in keyed if v.key), [])
    dups = pl.DataFrame(schema={"_source": pl.Int64, LINE: pl.Int64, "first_source": pl.Int64, "first": pl.Int64})
    if key:
        found = _unwrap(ray, [resolve_t.remote(key, *[w[3][2 + p] for w in work]) for p in range(partitions)])
        dups = pl.concat([dups, *[d.frame() for d, _, _ in found]])
        timings["shuffle_candidates"] = sum(n for _, n, _ in found)
        timings["shuffle_task_seconds"] = round(sum(t for _, _, t in found), 3)
    lap("shuffle")
    names = [p.name for p in files]
    tmp = Path(tempfile.mkdtemp(prefix=".csvprep-ray-", dir=out))
    dups_ref = ray.put(_Wire(dups))
    try:
        done = _unwrap(ray, [finish_t.remote(w[0], w[1], w[3][1], dups_ref, names, target, opts, str(tmp))
                             for w in work])
        lap("finish")
        timings["finish_task_seconds"] = round(sum(d["seconds"] for d in done), 3)
        return _write(out, tmp, files, planned, work, done, keyed, target, opts, timings, lap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(out: Path, tmp: Path, files: list[Path], planned: list[_File], work: list[Any], done: list[dict[str, Any]],
           validators: list[Validator], schema: Schema | None, options: Options, timings: dict[str, float],
           lap: Callable[[str], None]) -> Report:
    """Move the parts into place, join the rejects per file, and write the report."""
    stems = _names(files)
    first = planned[0]
    label = str(files[0]) if len(files) == 1 else f"{len(files)} files"
    report = Report(file=label, encoding=first.encoding.name, delimiter=first.info.dialect.delimiter,
                    object=schema.object if schema else None, connector=schema.connector if schema else None,
                    encoding_confidence=first.encoding.confidence)
    per_file: list[dict[str, Any]] = []
    issue_frames = []
    staged: list[tuple[Path, Path]] = []  # (written under tmp, final path)
    for f, v, stem in zip(planned, validators, stems):
        mine = [d for w, d in zip(work, done) if w[0].index == f.index]
        written = [Path(p) for d in mine for p in d["parts"]]
        parts = [p for p in written if _rows_in(p)] or written[:1]  # no clean row: a header-only part
        finals = [out / f"{stem}.part-{n:05d}.csv" for n in range(1, len(parts) + 1)]
        staged += list(zip(parts, finals))
        rejects = out / f"{stem}.rejects.csv"
        joined = tmp / f"{stem}.rejects.csv"
        with open(joined, "wb") as fh:
            fh.write(csv_bytes(pl.DataFrame(schema={c: pl.String for c in [LINE, REASONS, *f.info.header, RAW]}),
                               ",", "\n", header=True))
            for d in mine:
                with open(d["rejects"], "rb") as part:
                    shutil.copyfileobj(part, fh)
        staged.append((joined, rejects))
        head = compact_issues(issues_frame(f.issues + v.header_issues()))
        issues = expand_issues([head, *[b for d in mine for b in d["issues"]]])
        if len(files) > 1:
            issues = issues.with_columns(file=pl.lit(f.info.name))
        issue_frames.append(issues)
        read, clean_n, rej = (sum(d[k] for d in mine) for k in ("read", "rows", "rejected"))
        report.read += read
        report.clean += clean_n
        report.rejected += rej
        entry: dict[str, Any] = {"file": f.info.name, "encoding": f.encoding.name,
                                 "delimiter": f.info.dialect.delimiter,
                                 "rows": {"read": read, "clean": clean_n, "rejected": rej},
                                 "tasks": len(mine), "parts": [str(p) for p in finals], "rejects": str(rejects)}
        if f.note:
            entry["note"] = f.note
        per_file.append(entry)
    report.issues = pl.concat(issue_frames, how="diagonal") if issue_frames else report.issues
    report.outputs = {"parts": [str(b) for a, b in staged if b.name.endswith(".csv") and ".part-" in b.name],
                      "rejects": [e["rejects"] for e in per_file], "report": str(out / "report.json"),
                      "engine": f"ray, {len(work)} task(s)", "files": per_file}
    notes = [f"{e['file']}: {e['note']}" for e in per_file if "note" in e]
    if notes:
        report.outputs["notes"] = notes
    for stem in stems:  # parts of an earlier run that this one does not overwrite
        for old in out.glob(f"{stem}.part-*.csv"):
            if old not in {b for _, b in staged}:
                old.unlink()
    for a, b in staged:
        os.replace(a, b)
    lap("write")
    report.outputs["timings"] = timings
    staged_report = AtomicFile(out / "report.json")
    with staged_report.writing() as fh:
        report.write_json(fh)
        fh.write(b"\n")
    staged_report.commit()
    return report


def _rows_in(part: Path) -> bool:
    """Whether a clean part holds a row (an empty range writes a header only)."""
    with open(part, "rb") as fh:
        fh.readline()
        return bool(fh.read(1))
