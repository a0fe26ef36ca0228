"""Library entry points: check, clean (DataFrames) and clean_file (streamed to disk)."""
from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .errors import OutputError
from .reader import CHUNK_BYTES, LINE, CsvReader, Source
from .report import Report
from .schema import Schema, load_schema
from .types import Context
from .validate import ISSUE_SCHEMA, Prepared, Processed, Validator, issues_frame, preload_pandera
from .writer import AtomicFile, CsvSink, JsonlSink, PartedCsvSink, delimiter_char, shape_for, size_bytes
from .writer import line_ending as writer_line_ending

Progress = Callable[[int, int | None], None]
WORKERS = min(2, os.cpu_count() or 1)  # batches prepared at once (each holds a chunk in memory)


@dataclass
class Result:
    """The outcome of `clean`: clean and rejected rows as DataFrames, plus the report."""

    clean: pl.DataFrame
    rejects: pl.DataFrame
    report: Report


def resolve_schema(object: str | None = None, schema: Schema | str | os.PathLike | None = None,
                   connector: str | None = None) -> Schema | None:
    """The schema to use: a Schema, a schema file, a built-in object, or None (structure only)."""
    if isinstance(schema, Schema):
        return schema
    if schema is not None:
        return load_schema(path=schema)
    if object:
        return load_schema(object, connector)
    return None


# The whole file's issues stay in memory for the report, compressed until the end: repetitive
# text as categoricals, then LZ4 (websites, messages and fixed values repeat a lot).
COMPACT_ISSUES = {"column": pl.Categorical, "code": pl.Categorical, "severity": pl.Categorical,
                  "message": pl.Categorical}


def compact_issues(issues: pl.DataFrame) -> bytes:
    """A batch's issues as compressed Arrow IPC bytes (`expand_issues` reads them back): a few
    bytes per issue, and nothing of the batch's buffers kept alive."""
    buf = io.BytesIO()
    issues.cast(ISSUE_SCHEMA).cast(COMPACT_ISSUES).write_ipc(buf, compression="lz4")
    return buf.getvalue()


def expand_issues(parts: list[bytes]) -> pl.DataFrame:
    """The issue frame of `compact_issues` parts, in order."""
    return pl.concat([pl.read_ipc(io.BytesIO(p)) for p in parts])


def _run(source: Source, object: str | None, schema: Schema | str | os.PathLike | None,
         connector: str | None, encoding: str | None, delimiter: str | None, region: str | None,
         phone_format: str | None, chunk_bytes: int, progress: Progress | None,
         escape_formulas: bool = False
         ) -> tuple[Report, Validator, Callable[..., Iterator[Processed]]]:
    resolved = resolve_schema(object, schema, connector)
    if resolved is not None:
        preload_pandera()
    reader = CsvReader(source, encoding=encoding, delimiter=delimiter, chunk_bytes=chunk_bytes)
    info = reader.info
    validator = Validator(resolved, info.header, info.header_line, Context(region, phone_format, escape_formulas))
    report = Report(
        file=info.name, encoding=info.encoding.name, delimiter=info.dialect.delimiter,
        object=resolved.object if resolved else None, connector=resolved.connector if resolved else None,
        encoding_confidence=info.encoding.confidence)

    def batches(encode: Callable[[pl.DataFrame], bytes] | None = None) -> Iterator[Processed]:
        """The processed batches in file order; `encode` writes each batch's clean rows as CSV
        (in a thread, so the caller only appends the bytes)."""
        issues = [compact_issues(issues_frame(info.issues + validator.header_issues()))]

        # batches are prepared in threads while the next ones are read (polars releases the GIL);
        # one more thread finishes them in file order (key duplicates across batches), compacts
        # their issues and encodes their clean rows: the reading thread does little else
        def finish(prepared: Future[Prepared]) -> tuple[Processed, bytes]:
            done = validator.finish(prepared.result())
            if encode is not None:
                done.clean_csv = encode(done.clean)
            return done, compact_issues(done.issues)

        def account(future: Future[tuple[Processed, bytes]], bytes_done: int) -> Processed:
            done, compact = future.result()
            report.read += done.read
            report.clean += done.clean.height
            report.rejected += done.rejects.height
            issues.append(compact)
            if progress:
                progress(bytes_done, info.size)
            return done

        with ThreadPoolExecutor(max_workers=WORKERS) as pool, ThreadPoolExecutor(max_workers=1) as finisher:
            pending: deque[tuple[Future[tuple[Processed, bytes]], int]] = deque()
            for batch in reader.batches():
                prepared = pool.submit(validator.prepare, batch)
                pending.append((finisher.submit(finish, prepared), batch.bytes_done))
                while len(pending) > WORKERS:
                    yield account(*pending.popleft())
            while pending:
                yield account(*pending.popleft())
        validator.forget_keys()  # no longer needed: freed before the issues are expanded
        report.issues = expand_issues(issues)

    return report, validator, batches


def check(source: Source, object: str | None = None, schema: Schema | str | os.PathLike | None = None,
          connector: str | None = None, *, encoding: str | None = None, delimiter: str | None = None,
          region: str | None = None, phone_format: str | None = None, chunk_bytes: int = CHUNK_BYTES,
          progress: Progress | None = None, escape_formulas: bool = False) -> Report:
    """Validate a CSV (path, file object or DataFrame) and return the report; writes nothing."""
    report, _, batches = _run(source, object, schema, connector, encoding, delimiter, region,
                              phone_format, chunk_bytes, progress, escape_formulas)
    for _ in batches():
        pass
    return report


def clean(source: Source, object: str | None = None, schema: Schema | str | os.PathLike | None = None,
          connector: str | None = None, *, encoding: str | None = None, delimiter: str | None = None,
          region: str | None = None, phone_format: str | None = None, chunk_bytes: int = CHUNK_BYTES,
          progress: Progress | None = None, escape_formulas: bool = False) -> Result:
    """Validate and normalise in memory: clean rows, rejected rows (with `_line`, `_reasons`) and report.

    Cells that start like a spreadsheet formula are flagged `text.formula`; `escape_formulas`
    prefixes them with `'`.
    """
    report, validator, batches = _run(source, object, schema, connector, encoding, delimiter, region,
                                      phone_format, chunk_bytes, progress, escape_formulas)
    parts = list(batches())
    cols = validator.output_columns
    clean_df = pl.concat([p.clean for p in parts]) if parts else pl.DataFrame(schema={c: pl.String for c in cols})
    rejects = pl.concat([p.rejects for p in parts]) if parts else pl.DataFrame()
    return Result(clean_df, rejects, report)


def default_rejects_path(output: str | os.PathLike) -> Path:
    """OUT minus its extension plus `.rejects.csv`."""
    out = Path(output)
    return out.with_name(out.stem + ".rejects.csv") if out.suffix else out.with_name(out.name + ".rejects.csv")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def open_clean_sink(out: Path, validator: Validator, out_delimiter: str | None = None,
                    line_ending: str | None = None, max_rows: int | None = None,
                    max_bytes: int | str | None = None, output_format: str = "csv"
                    ) -> PartedCsvSink | JsonlSink:
    """The sink for the clean rows: options given here win over the schema's `output:` defaults."""
    conf = dict(validator.schema.output) if validator.schema else {}
    columns = validator.output_columns
    if output_format == "jsonl":
        if any(x is not None for x in (out_delimiter, line_ending, max_rows, max_bytes)):
            raise OutputError("--out-delimiter, --line-ending, --max-rows and --max-bytes apply to CSV output only: "
                              "drop them or use --format csv")
        return JsonlSink(out, columns, shape_for(str(conf["jsonl"])) if conf.get("jsonl") else None)
    if output_format != "csv":
        raise OutputError(f"unknown output format {output_format!r}: use csv or jsonl")
    rows = max_rows if max_rows is not None else conf.get("max_rows")
    size = max_bytes if max_bytes is not None else conf.get("max_bytes")
    return PartedCsvSink(out, columns, delimiter_char(out_delimiter or conf.get("delimiter", ",")),
                         writer_line_ending(line_ending or conf.get("line_ending", "LF")),
                         int(rows) if rows else None, size_bytes(size) if size else None)


def clean_file(source: str | os.PathLike, output: str | os.PathLike, object: str | None = None,
               schema: Schema | str | os.PathLike | None = None, connector: str | None = None, *,
               rejects: str | os.PathLike | None = None, report_path: str | os.PathLike | None = None,
               encoding: str | None = None, delimiter: str | None = None, region: str | None = None,
               phone_format: str | None = None, chunk_bytes: int = CHUNK_BYTES,
               progress: Progress | None = None, out_delimiter: str | None = None,
               line_ending: str | None = None, max_rows: int | None = None,
               max_bytes: int | str | None = None, output_format: str = "csv",
               escape_formulas: bool = False) -> Report:
    """Stream a cleaned copy of `source` to `output`, rejected rows to `rejects`, report to JSON.

    The clean file is split into OUT.part-NNN files at `max_rows` / `max_bytes` (defaults from
    the schema's `output:`); `output_format="jsonl"` writes one JSON object per row instead.
    """
    out = Path(output)
    rej = Path(rejects) if rejects else default_rejects_path(out)
    src = Path(source)
    targets = [("output", out), ("rejects", rej)] + ([("report", Path(report_path))] if report_path else [])
    for label, target in targets:
        if _same_file(src, target):
            raise OutputError(f"{target}: the {label} file would overwrite the input: choose another name")
    if len({str(t.resolve()) for _, t in targets}) != len(targets):
        raise OutputError("the output, rejects and report paths must differ")
    report, validator, batches = _run(source, object, schema, connector, encoding, delimiter, region,
                                      phone_format, chunk_bytes, progress, escape_formulas)
    sinks: list[CsvSink | PartedCsvSink | JsonlSink | AtomicFile] = []
    try:
        clean_sink = open_clean_sink(out, validator, out_delimiter, line_ending, max_rows, max_bytes,
                                     output_format)
        sinks.append(clean_sink)
        reject_sink = CsvSink(rej, [LINE, "_reasons", *validator.header, "_raw"])
        sinks.append(reject_sink)
        staged = AtomicFile(report_path) if report_path else None  # fails early; committed with the rest
        if staged:
            sinks.append(staged)
        if isinstance(clean_sink, PartedCsvSink):  # CSV encoded in the finishing thread
            for done in batches(clean_sink.encode):
                clean_sink.write(done.clean, done.clean_csv)
                reject_sink.write(done.rejects)
        else:
            for done in batches():
                clean_sink.write(done.clean)
                reject_sink.write(done.rejects)
        parts = clean_sink.final_paths()
        report.outputs = {"clean": str(out)} if len(parts) == 1 else {"parts": [str(p) for p in parts]}
        report.outputs["rejects"] = str(rej)
        if staged:
            report.outputs["report"] = str(report_path)
            with staged.writing() as fh:
                report.write_json(fh)
                fh.write(b"\n")
        for sink in sinks:
            sink.commit()
    except BaseException:
        for sink in sinks:
            sink.discard()
        raise
    return report


def write_report(report: Report, path: str | os.PathLike) -> None:
    """Write the JSON report atomically."""
    f = AtomicFile(path)
    with f.writing() as fh:
        report.write_json(fh)
        fh.write(b"\n")
    f.commit()
