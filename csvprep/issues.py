"""The issue record: its columns and types, the constructors every module uses, and compaction."""
from __future__ import annotations

import io
from typing import Any

import polars as pl

LINE = "_line"  # the source line of a row (header = 1), in every frame of rows
RAW = "_raw"  # the raw text of a row that could not be split into cells
REASONS = "_reasons"  # the rejects file's summary of a row's errors

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "line": pl.Int64, "column": pl.String, "value": pl.String, "code": pl.String,
    "severity": pl.String, "message": pl.String, "fixed": pl.String}
COLUMNS = list(ISSUE_SCHEMA)
ERROR, WARNING = "error", "warning"


def issue(line: int | None, column: str | None, value: str | None, code: str, severity: str,
          message: str, fixed: str | None = None) -> dict[str, Any]:
    """One issue as a dict (for the few issues about a header or a file)."""
    return {"line": line, "column": column, "value": value, "code": code,
            "severity": severity, "message": message, "fixed": fixed}


def empty_issues() -> pl.DataFrame:
    """An issue frame with no rows."""
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def issues_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An issue frame from a list of issue dicts."""
    return pl.DataFrame(rows, schema=ISSUE_SCHEMA) if rows else empty_issues()


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s issue columns, in order and with the issue types."""
    return frame.select(COLUMNS).cast(ISSUE_SCHEMA)  # type: ignore[arg-type]


def issues_at(lines: pl.Series | pl.Expr | str, column: str | None, value: pl.Series | pl.Expr | str | None,
              code: str, severity: str, message: str | pl.Series | pl.Expr,
              fixed: pl.Series | pl.Expr | None = None, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """An issue frame with one issue per row: per-row `lines`, `value`, `message` and `fixed`
    (Series, or expressions / column names over `frame`), a constant column, code and severity.
    Constants are literals: the frame holds them once, not once per row."""
    def expr(x: Any, constant: bool = False) -> pl.Expr:
        if x is None:
            return pl.lit(None, pl.String)
        if isinstance(x, pl.Expr):
            return x
        if isinstance(x, pl.Series):
            return pl.lit(x)
        if isinstance(x, str) and not constant:
            return pl.col(x)
        return pl.lit(x, pl.String)

    base = frame if frame is not None else pl.DataFrame()
    out = base.select(
        line=expr(lines).cast(pl.Int64), column=pl.lit(column, pl.String),
        value=expr(value).cast(pl.String), code=pl.lit(code, pl.String), severity=pl.lit(severity, pl.String),
        message=expr(message, constant=True).cast(pl.String), fixed=expr(fixed).cast(pl.String))
    return out


# The whole file's issues stay in memory for the report, compressed until the end: repetitive
# text as categoricals, then LZ4 (websites, messages and fixed values repeat a lot).
COMPACT = {"column": pl.Categorical, "code": pl.Categorical, "severity": pl.Categorical,
           "message": pl.Categorical}


def compact_issues(issues: pl.DataFrame) -> bytes:
    """A batch's issues as compressed Arrow IPC bytes (`expand_issues` reads them back): a few
    bytes per issue, and nothing of the batch's buffers kept alive."""
    buf = io.BytesIO()
    conform(issues).cast(COMPACT).write_ipc(buf, compression="lz4")  # type: ignore[arg-type]
    return buf.getvalue()


def expand_issues(parts: list[bytes]) -> pl.DataFrame:
    """The issue frame of `compact_issues` parts, in order."""
    if not parts:
        return empty_issues().cast(COMPACT)  # type: ignore[arg-type]
    return pl.concat([pl.read_ipc(io.BytesIO(p)) for p in parts])
