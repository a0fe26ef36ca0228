"""Library entry points: check, clean (DataFrames) and clean_file (streamed to disk)."""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import polars as pl

from . import connectors
from .errors import OutputError
from .html_report import REPORT_ROWS, RowSampler, report_format, schema_columns
from .issues import LINE, RAW, REASONS, IssueStore, Packed, issues_frame, pack_issues
from .options import Options, Progress
from .reader import CsvReader, Source
from .report import Report
from .schema import Schema, load_schema
from .validate import Prepared, Processed, Validator, preload_pandera
from .writer import STDOUT, AtomicFile, CsvSink, Sink, is_stream, open_sink

__all__ = ["Options", "Progress", "Result", "check", "clean", "clean_file", "default_rejects_path", "resolve_schema",
           "write_report"]

WORKERS = min(2, os.cpu_count() or 1)  # batches prepared at once (each holds a chunk in memory)
SchemaArg = Schema | str | os.PathLike | None


@dataclass
class Result:
    """The outcome of `clean`: clean and rejected rows as DataFrames, plus the report."""

    clean: pl.DataFrame
    rejects: pl.DataFrame
    report: Report


def resolve_schema(object: str | None = None, schema: SchemaArg = None, connector: str | None = None,
                   options: Options | None = None) -> Schema | None:
    """The schema to use: a Schema, a schema file, a connector's run-time object (a PostgreSQL
    table), a built-in object, or None (structure only)."""
    if isinstance(schema, Schema):
        return schema
    if schema is not None:
        return load_schema(path=schema)
    found = connectors.resolve(connector, object, options.connector_options if options else None)
    if found is not None:
        return found
    if object:
        return load_schema(object, connector)
    return None


class Run:
    """One pass over a source: the reader, the validator and the report they fill."""

    def __init__(self, source: Source, schema: Schema | None, options: Options) -> None:
        if schema is not None:
            preload_pandera()
        self.options = options
        # without a header, a schema's fields name the columns in order (unless `columns` do)
        positional = options.no_header and not options.columns and schema is not None
        columns = [f.name for f in schema.fields] if positional and schema else options.columns
        self.reader = CsvReader(source, encoding=options.encoding, delimiter=options.delimiter,
                                chunk_bytes=options.chunk_bytes, header=not options.no_header,
                                columns=list(columns) if columns else None, positional=positional,
                                skip_lines=options.skip_lines)
        info = self.reader.info
        self.validator = Validator(schema, info.header, info.header_line, options)
        for path in options.seen:  # keys of earlier clean files count as seen
            self.validator.remember(path)
        self.report = Report(
            file=info.name, encoding=info.encoding.name, delimiter=info.dialect.delimiter,
            object=schema.object if schema else None, connector=schema.connector if schema else None,
            encoding_confidence=info.encoding.confidence)
        # the cells of the lines an HTML report's grid shows (the first report_rows of each issue code)
        self.sampler = RowSampler(options.report_rows, schema_columns(
            info.header, self.validator.map.columns if self.validator.map else None)) if options.report_rows else None

    def batches(self, encode: Callable[[pl.DataFrame], bytes | None] | None = None) -> Iterator[Processed]:
        """The processed batches in file order; `encode` writes each batch's clean rows in the
        output format (in a thread, so the caller only appends the bytes)."""
        info, validator, report, progress = self.reader.info, self.validator, self.report, self.options.progress
        sampler = self.sampler
        store = IssueStore()  # the report's issues, compressed, on disk past a few MB
        store.append(issues_frame(info.issues + validator.header_issues()))

        # batches are prepared in threads while the next ones are read (polars releases the GIL);
        # one more thread finishes them in file order (key duplicates across batches), compacts
        # their issues and encodes their clean rows: the reading thread does little else
        def finish(prepared: Future[Prepared]) -> tuple[Processed, Packed]:
            done = validator.finish(prepared.result())
            if sampler is not None:
                sampler.add(prepared.result().rows, done.rejects, done.issues)
            if encode is not None:
                done.clean_csv = encode(done.clean)
            return done, pack_issues(done.issues)

        def account(future: Future[tuple[Processed, Packed]], bytes_done: int) -> Processed:
            done, packed = future.result()
            report.read += done.read
            report.clean += done.clean.height
            report.rejected += done.rejects.height
            store.add(packed)
            if progress:
                progress(bytes_done, info.size)
            return done

        with ThreadPoolExecutor(max_workers=WORKERS) as pool, ThreadPoolExecutor(max_workers=1) as finisher:
            pending: deque[tuple[Future[tuple[Processed, Packed]], int]] = deque()
            for batch in self.reader.batches():
                prepared = pool.submit(validator.prepare, batch)
                pending.append((finisher.submit(finish, prepared), batch.bytes_done))
                while len(pending) > WORKERS:
                    yield account(*pending.popleft())
            while pending:
                yield account(*pending.popleft())
        validator.forget_keys()
        report.store = store
        if sampler is not None:
            report.rows = sampler.frame()


def _start(source: Source, object: str | None, schema: SchemaArg, connector: str | None,
           options: Options | None, settings: dict[str, Any]) -> Run:
    opts = Options.build(options, **settings)  # bad settings are refused before any data is read
    return Run(source, resolve_schema(object, schema, connector, opts), opts)


def check(source: Source, object: str | None = None, schema: SchemaArg = None, connector: str | None = None, *,
          options: Options | None = None, **settings: Any) -> Report:
    """Validate a CSV (path, file object, bytes or DataFrame) and return the report; writes nothing.

    `options` (an `Options`) and keyword settings (any `Options` field: `encoding=`, `region=`,
    `escape_formulas=`, `progress=`, ...) say how; keywords win.
    """
    run = _start(source, object, schema, connector, options, settings)
    for _ in run.batches():
        pass
    return run.report


def clean(source: Source, object: str | None = None, schema: SchemaArg = None, connector: str | None = None, *,
          options: Options | None = None, **settings: Any) -> Result:
    """Validate and normalise in memory: clean rows, rejected rows (with `_line`, `_reasons`) and report.

    Cells that start like a spreadsheet formula are flagged `text.formula`; `escape_formulas=True`
    prefixes them with `'`.
    """
    run = _start(source, object, schema, connector, options, settings)
    parts = list(run.batches())
    cols = run.validator.output_columns
    clean_df = pl.concat([p.clean for p in parts]) if parts else pl.DataFrame(schema={c: pl.String for c in cols})
    rejects = pl.concat([p.rejects for p in parts]) if parts else pl.DataFrame()
    return Result(clean_df, rejects, run.report)


def default_rejects_path(output: str | os.PathLike) -> Path:
    """OUT minus its extension plus `.rejects.csv`."""
    out = Path(output)
    return out.with_name(out.stem + ".rejects.csv") if out.suffix else out.with_name(out.name + ".rejects.csv")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def open_clean_sink(out: Path, validator: Validator, options: Options) -> Sink:
    """The sink for the clean rows: options given here win over the schema's `output:` defaults."""
    conf = dict(validator.schema.output) if validator.schema else {}
    shape = connectors.shape_for(str(conf["jsonl"])) if options.output_format == "jsonl" and conf.get("jsonl") else None
    return open_sink(options.output_format, out, validator.output_columns, options, conf, shape)


def clean_file(source: str | os.PathLike, output: str | os.PathLike, object: str | None = None,
               schema: SchemaArg = None, connector: str | None = None, *,
               rejects: str | os.PathLike | None = None,
               report_path: str | os.PathLike | list[str | os.PathLike] | None = None,
               options: Options | None = None, clean_lines: Callable[[pl.Series], None] | None = None,
               **settings: Any) -> Report:
    """Stream a cleaned copy of `source` to `output`, rejected rows to `rejects`, the report to
    `report_path` (one path or a list: .html/.htm is the HTML report with the first `report_rows`
    lines of each issue code in its grid, default 1000; anything else JSON).

    The clean file is split into OUT.part-NNN files at `max_rows` / `max_bytes` (defaults from
    the schema's `output:`); `output_format="jsonl"` writes one JSON object per row instead.
    Settings as in `check`. `clean_lines` receives the source lines of each batch's clean rows,
    in the order they are written.
    """
    opts = Options.build(options, **settings)
    out = Path(output)
    if rejects is None and str(output) == STDOUT:
        raise OutputError("-o - writes the clean rows to standard output: give --rejects PATH for the rejected rows")
    rej = Path(rejects) if rejects else default_rejects_path(out)
    report_paths = [report_path] if isinstance(report_path, (str, os.PathLike)) else list(report_path or [])
    if opts.report_rows is None and any(report_format(p) == "html" for p in report_paths):
        opts = replace(opts, report_rows=REPORT_ROWS)
    targets = [("output", out), ("rejects", rej)] + [("report", Path(p)) for p in report_paths]
    if isinstance(source, (str, os.PathLike)) and str(source) != STDOUT:  # '-' reads standard input
        src = Path(source)
        for label, target in targets:
            if not is_stream(target) and _same_file(src, target):
                raise OutputError(f"{target}: the {label} file would overwrite the input: choose another name")
    files = [t for _, t in targets if not is_stream(t)]
    streams = [str(t) for _, t in targets if str(t) == STDOUT]
    if len({str(t.resolve()) for t in files}) != len(files) or len(streams) > 1:
        raise OutputError("the output, rejects and report paths must differ")
    run = Run(source, resolve_schema(object, schema, connector, opts), opts)
    report, validator = run.report, run.validator
    sinks: list[Sink | CsvSink | AtomicFile] = []
    try:
        clean_sink = open_clean_sink(out, validator, opts)
        sinks.append(clean_sink)
        reject_sink = CsvSink(rej, [LINE, REASONS, *validator.header, RAW])
        sinks.append(reject_sink)
        staged = [AtomicFile(p) for p in report_paths]  # fail early; committed with the rest
        sinks.extend(staged)
        for done in run.batches(clean_sink.encode):  # the rows encoded in the finishing thread
            clean_sink.write(done.clean, done.clean_csv)
            reject_sink.write(done.rejects)
            if clean_lines and done.lines is not None:
                clean_lines(done.lines)
        parts = clean_sink.final_paths()
        report.outputs = {"clean": str(out)} if len(parts) == 1 else {"parts": [str(p) for p in parts]}
        report.outputs["rejects"] = str(rej)
        stale = clean_sink.stale_paths()  # an earlier run's parts of the same OUT: removed on commit
        if stale:
            report.outputs["removed"] = [str(p) for p in stale]
        if report_paths:
            report.outputs["report"] = str(report_paths[0])
            if len(report_paths) > 1:
                report.outputs["reports"] = [str(p) for p in report_paths]
        for path, f in zip(report_paths, staged):
            with f.writing() as fh:
                _write_report(report, fh, report_format(path), opts.report_rows or REPORT_ROWS)
        for sink in sinks:
            sink.commit()
    except BaseException:
        for sink in sinks:
            sink.discard()
        raise
    return report


def _write_report(report: Report, fh: IO[bytes], fmt: str, max_rows_per_code: int) -> None:
    if fmt == "html":
        fh.write(report.to_html(max_rows_per_code).encode("utf-8"))
    else:
        report.write_json(fh)
        fh.write(b"\n")


def write_report(report: Report, path: str | os.PathLike, format: str | None = None,
                 max_rows_per_code: int = REPORT_ROWS) -> None:
    """Write the report atomically: `format` "json" or "html" (default: by the suffix, .html/.htm
    is HTML, with at most `max_rows_per_code` grid lines per issue code)."""
    fmt = format or report_format(path)
    if fmt not in ("json", "html"):
        raise OutputError(f"unknown report format {fmt!r}: use json or html")
    if report.file and _same_file(Path(report.file), Path(path)):
        raise OutputError(f"{path}: the report would overwrite the input: choose another name")
    f = AtomicFile(path)
    with f.writing() as fh:
        _write_report(report, fh, fmt, max_rows_per_code)
    f.commit()
