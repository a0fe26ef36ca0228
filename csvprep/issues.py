"""The issue record: its columns and types, the constructors every module uses, and compaction."""
from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import polars as pl

from .errors import working_files_error

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


# The whole file's issues are kept for the report compressed: repetitive text as categoricals,
# then LZ4 (websites, messages and fixed values repeat a lot), and past SPILL_BYTES on disk.
COMPACT = {"column": pl.Categorical, "code": pl.Categorical, "severity": pl.Categorical,
           "message": pl.Categorical}
SPILL_BYTES = 16 << 20  # compressed issues an IssueStore holds in memory before it writes them to a file


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


@dataclass(frozen=True)
class Packed:
    """A batch's issues made ready for an IssueStore (in a worker thread): compact_issues'
    bytes, their number, and how many there are of each (code, severity)."""

    data: bytes
    rows: int
    counts: dict[tuple[str, str], int]


def tally(issues: pl.DataFrame) -> dict[tuple[str, str], int]:
    """The number of issues of each (code, severity)."""
    if not issues.height:
        return {}
    c = issues.group_by("code", "severity").len()
    return {(str(k), str(s)): int(n) for k, s, n in c.iter_rows()}


def pack_issues(issues: pl.DataFrame) -> Packed:
    """`issues` compressed and counted (see Packed)."""
    return Packed(compact_issues(issues), issues.height, tally(issues))


class IssueStore:
    """Every issue of a run, in order, in bounded memory: each batch's issues compressed
    (compact_issues), held in memory up to `spill_bytes`, then appended to an unnamed temporary
    file; their number per code and severity is kept on the side, so totals, exit codes and the
    summary never need them all back at once. `frames()` reads them back a batch at a time;
    `frame()` is all of them as one frame (what `Report.issues` gives a library caller)."""

    def __init__(self, spill_bytes: int | None = None) -> None:
        self.spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
        # each part and its number of issues: compressed in memory, (offset, size) on disk, or a frame
        self.parts: list[tuple[bytes | tuple[int, int] | pl.DataFrame, int]] = []
        self.height = 0
        self.counts: dict[tuple[str, str], int] = {}
        self.columns = list(COLUMNS)  # plus "file" when a part has it (csvprep.ray)
        self._held = 0
        self._file: IO[bytes] | None = None
        self._frame: pl.DataFrame | None = None

    @classmethod
    def of(cls, frame: pl.DataFrame) -> IssueStore:
        """A store holding `frame` as it is."""
        store = cls()
        store.append_frame(frame)
        return store

    @property
    def spilled(self) -> bool:
        """Whether some of the issues were written to the temporary file."""
        return self._file is not None

    def _count(self, rows: int, counts: dict[tuple[str, str], int]) -> None:
        self.height += rows
        for k, n in counts.items():
            self.counts[k] = self.counts.get(k, 0) + n
        self._frame = None

    def add(self, packed: Packed) -> None:
        """Append a packed batch (kept compressed; spilled to disk past `spill_bytes`)."""
        if not packed.rows:
            return
        self.parts.append((packed.data, packed.rows))
        self._held += len(packed.data)
        self._count(packed.rows, packed.counts)
        if self._held > self.spill_bytes:
            self._spill()

    def append(self, issues: pl.DataFrame) -> None:
        """Append an issue frame, compressed."""
        self.add(pack_issues(issues))

    def append_frame(self, issues: pl.DataFrame, first: bool = False) -> None:
        """Append (or with `first`, put before the others) an issue frame as it is, other columns
        (such as `file`) included."""
        if not issues.height:
            return
        self.parts.insert(0 if first else len(self.parts), (issues, issues.height))
        self.columns += [c for c in issues.columns if c not in self.columns]
        self._count(issues.height, tally(issues))

    def _spill(self) -> None:
        try:
            if self._file is None:  # deleted when closed, at the latest when the store is collected
                self._file = tempfile.TemporaryFile(prefix="csvprep-issues-")  # noqa: SIM115 (kept open for the run)
            fh = self._file
            fh.seek(0, os.SEEK_END)
            for i, (part, rows) in enumerate(self.parts):
                if isinstance(part, bytes):
                    fh.write(part)
                    self.parts[i] = ((fh.tell() - len(part), len(part)), rows)
            fh.flush()
        except OSError as exc:
            raise working_files_error(exc) from exc
        self._held = 0

    def _read(self, part: bytes | tuple[int, int] | pl.DataFrame) -> pl.DataFrame:
        """A part as a frame of the store's columns: compressed ones with categoricals, frames
        in their own types."""
        if isinstance(part, pl.DataFrame):
            frame = part
        else:
            if isinstance(part, tuple):
                assert self._file is not None
                part = os.pread(self._file.fileno(), part[1], part[0])
            frame = pl.read_ipc(io.BytesIO(part))
        return frame.select(pl.col(c) if c in frame.columns else pl.lit(None, ISSUE_SCHEMA.get(c, pl.String)).alias(c)
                            for c in self.columns)

    def frames(self, start: int = 0) -> Iterator[pl.DataFrame]:
        """The issues from number `start` on, a stored batch at a time, in order."""
        seen = 0
        for part, rows in self.parts:
            if seen + rows > start:
                yield self._read(part).slice(max(start - seen, 0))
            seen += rows

    def frame(self) -> pl.DataFrame:
        """All the issues as one frame (categoricals for column, code, severity and message,
        unless frames with text were stored as they are)."""
        if self._frame is None:
            frames = list(self.frames())  # categoricals and strings together make strings
            self._frame = (pl.concat(frames, how="vertical_relaxed") if frames else
                           self._read(empty_issues().cast(COMPACT)))  # type: ignore[arg-type]
        return self._frame

    def errors(self) -> int:
        """The number of error issues."""
        return sum(n for (_, sev), n in self.counts.items() if sev == ERROR)

    def warnings(self) -> int:
        """The number of warning issues."""
        return sum(n for (_, sev), n in self.counts.items() if sev == WARNING)
