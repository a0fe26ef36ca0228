"""Output files: atomic writes (a temp file beside the target, renamed when complete), the
clean-file sinks and the registry of output formats (`FORMATS`)."""
from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import polars as pl

from .errors import OutputError

if TYPE_CHECKING:
    from .options import Options


STDOUT = "-"  # as an output path: standard output


def is_stream(path: str | os.PathLike) -> bool:
    """Whether `path` is standard output (`-`) or an existing file that is not a regular file
    (a device such as /dev/stdout, a FIFO): written to directly, never replaced."""
    if str(path) == STDOUT:
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _new_file_mode(path: Path) -> int:
    """The permissions `open()` would give: an existing file's own, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


class AtomicFile:
    """A file written under a temporary name and renamed over `path` on commit; standard output
    (`-`) and devices or FIFOs are written directly (nothing to rename, nothing replaced)."""

    def __init__(self, path: str | os.PathLike, like: str | os.PathLike | None = None) -> None:
        """`like`: the file whose permissions it takes when it exists (OUT for its parts)."""
        self.path = Path(path)
        self.tmp: Path | None = None
        self._close = True
        if is_stream(path):
            if str(path) == STDOUT:
                self.fh: IO[bytes] = sys.stdout.buffer
                self._close = False
            else:
                try:
                    self.fh = open(path, "wb")
                except OSError as exc:
                    raise OutputError(f"{self.path}: cannot write it ({exc.strerror})")
            return
        parent = self.path.parent if str(self.path.parent) else Path(".")
        if not parent.is_dir():
            raise OutputError(f"{self.path}: the folder {parent} does not exist: create it first")
        if self.path.is_dir():
            raise OutputError(f"{self.path}: is a directory: give a file name")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write in {parent} ({exc.strerror}): choose another folder")
        self.tmp = Path(tmp)
        try:  # mkstemp makes it 0600: a server-side COPY could not read the result
            os.fchmod(fd, _new_file_mode(Path(like) if like is not None and Path(like).is_file() else self.path))
        except OSError:
            pass
        self.fh = os.fdopen(fd, "wb")

    @property
    def direct(self) -> bool:
        """Whether the file is written in place (standard output, a device)."""
        return self.tmp is None

    def commit(self) -> None:
        """Close and move the file into place."""
        if self.tmp is None:
            try:
                self.fh.flush()
                if self._close:
                    self.fh.close()
            except OSError as exc:
                raise OutputError(f"{self.path}: writing failed ({exc.strerror})")
            return
        self.fh.close()
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.path}: cannot write it ({exc.strerror})")

    @contextmanager
    def writing(self) -> Iterator[IO[bytes]]:
        """The open file; an OSError while writing deletes it and becomes an OutputError."""
        try:
            yield self.fh
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.path}: writing failed ({exc.strerror})")

    def discard(self) -> None:
        """Close and delete the temporary file (a stream is only flushed: what went is gone)."""
        if self.tmp is None:
            try:
                self.fh.flush()
            except (OSError, ValueError):
                pass
            return
        if not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


# a line that is exactly \. : PostgreSQL's COPY takes it for the end of the data (and drops the
# rows after it) unless it is quoted, as PostgreSQL quotes it itself on output
_END_OF_DATA = re.compile(rb"(?m)^\\\.(?=\r?$)")


def csv_bytes(frame: pl.DataFrame, separator: str, line_terminator: str, header: bool = False) -> bytes:
    """`frame` as CSV with minimal quoting, plus quotes around a lone `\\.` (a one-column value)."""
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=header, separator=separator, line_terminator=line_terminator,
                    quote_style="necessary")
    data = buf.getvalue()
    if frame.width == 1 and b"\\." in data:
        data = _END_OF_DATA.sub(b'"\\\\."', data)
    return data


class CsvSink:
    """Appends frames to one CSV file: header once, UTF-8, minimal quoting."""

    def __init__(self, path: str | os.PathLike, columns: list[str], separator: str = ",",
                 line_terminator: str = "\n", like: str | os.PathLike | None = None) -> None:
        self.file = AtomicFile(path, like)
        self.columns = columns
        self.separator = separator
        self.line_terminator = line_terminator
        self.rows = 0
        self._write(pl.DataFrame(schema={c: pl.String for c in columns}), header=True)

    def _write(self, frame: pl.DataFrame, header: bool) -> None:
        data = csv_bytes(frame, self.separator, self.line_terminator, header)
        with self.file.writing() as fh:
            fh.write(data)

    def write(self, frame: pl.DataFrame) -> None:
        """Append rows (columns in the sink's order)."""
        if frame.height:
            self._write(frame.select(self.columns), header=False)
            self.rows += frame.height

    def write_bytes(self, data: bytes | memoryview, rows: int) -> None:
        """Append `rows` records already written as CSV in the sink's dialect."""
        with self.file.writing() as fh:
            fh.write(data)
        self.rows += rows

    def commit(self) -> None:
        """Finish the file."""
        self.file.commit()

    def discard(self) -> None:
        """Remove the partial file."""
        self.file.discard()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a whole text file atomically."""
    f = AtomicFile(path)
    with f.writing() as fh:
        fh.write(text.encode("utf-8"))
    f.commit()


DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}


def delimiter_char(name: str) -> str:
    """A Bulk API 2.0 delimiter name (COMMA, TAB, ...) or a single character -> the character."""
    text = str(name)
    char = DELIMITERS.get(text.upper(), "\t" if text in ("\\t", "\t") else text)
    if len(char) != 1 or char in "\"\r\n":
        raise OutputError(f"output delimiter {name!r} is not usable: use one of {', '.join(DELIMITERS)} "
                          "or a single character")
    return char


def line_ending(name: str) -> str:
    """LF or CRLF -> the characters."""
    try:
        return LINE_ENDINGS[str(name).upper()]
    except KeyError:
        raise OutputError(f"line ending {name!r} is not known: use LF or CRLF")


def row_bytes(frame: pl.DataFrame, separator: str, line_terminator: str) -> pl.Series:
    """Bytes each row takes in a CSV written with minimal quoting (as CsvSink writes it)."""
    if frame.width == 0:
        return pl.Series([len(line_terminator)] * frame.height, dtype=pl.Int64)
    specials = "[" + "".join("\\" + c if c in "\\^]-[" else c for c in separator) + "\"\r\n]"
    sizes = []
    for name in frame.columns:
        col = pl.col(name).cast(pl.String)
        quoted = col.str.contains(specials) | (col == "") | ((col == "\\.") if frame.width == 1 else False)
        size = col.str.len_bytes() + pl.when(quoted).then(2 + col.str.count_matches('"', literal=True)).otherwise(0)
        sizes.append(size.fill_null(0).cast(pl.Int64))
    extra = (frame.width - 1) * len(separator.encode()) + len(line_terminator.encode())
    return frame.select((pl.sum_horizontal(sizes) + extra).alias("bytes")).to_series()


def part_path(path: Path, n: int) -> Path:
    """OUT.csv -> OUT.part-001.csv."""
    suffix = path.suffix or ".csv"
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f"{stem}.part-{n:03d}{suffix}")


class PartedCsvSink:
    """A CsvSink that rolls over to OUT.part-NNN.csv at `max_rows` rows or `max_bytes` bytes.

    Every part has the header and whole records. When everything fits in one part the single
    file is written under OUT itself.
    """

    def __init__(self, path: str | os.PathLike, columns: list[str], separator: str = ",",
                 line_terminator: str = "\n", max_rows: int | None = None, max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.columns = columns
        self.separator = separator
        self.line_terminator = line_terminator
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.header_bytes = int(row_bytes(pl.DataFrame({c: [c] for c in columns}), separator,
                                          line_terminator).sum()) if columns else len(line_terminator)
        self.sinks: list[CsvSink] = []
        self.rows = 0
        self._rows = 0
        self._bytes = 0
        self.stream = is_stream(self.path)  # standard output or a device: one file, written directly
        if self.stream and (max_rows or max_bytes):
            raise OutputError(f"{self.path}: parts (--max-rows, --max-bytes) need a file name, not a stream")
        self._roll()

    def _roll(self) -> None:
        n = len(self.sinks) + 1
        target = self.path if self.stream else part_path(self.path, n)
        self.sinks.append(CsvSink(target, self.columns, self.separator, self.line_terminator, like=self.path))
        self._rows, self._bytes = 0, self.header_bytes

    def encode(self, frame: pl.DataFrame) -> bytes:
        """`frame`'s rows as this sink writes them (no header); may run in another thread."""
        return csv_bytes(frame.select(self.columns), self.separator, self.line_terminator)

    def write(self, frame: pl.DataFrame, data: bytes | None = None) -> None:
        """Append rows, starting new parts as the limits are reached; `data` is `encode(frame)`
        when the caller has it already."""
        if not frame.height:
            return
        frame = frame.select(self.columns)
        if not self.max_rows or self._rows + frame.height <= self.max_rows:
            # the whole batch as CSV first: when it fits in the part, appending it is all it costs
            data = self.encode(frame) if data is None else data
            if not self.max_bytes or self._bytes + len(data) <= self.max_bytes:
                self.sinks[-1].write_bytes(data, frame.height)
                self._rows += frame.height
                self._bytes += len(data)
                self.rows += frame.height
                return
        sizes = row_bytes(frame, self.separator, self.line_terminator) if self.max_bytes else None
        start = 0
        while start < frame.height:
            room_rows = (self.max_rows - self._rows) if self.max_rows else frame.height
            take = min(room_rows, frame.height - start)
            if sizes is not None and self.max_bytes:
                cum = sizes.slice(start, take).cum_sum()
                take = int((cum <= self.max_bytes - self._bytes).sum())
            if take == 0:
                if self._rows == 0:  # one record larger than the limit: it gets a part of its own
                    take = 1
                else:
                    self._roll()
                    continue
            chunk = frame.slice(start, take)
            self.sinks[-1].write(chunk)
            self._rows += take
            self._bytes += int(sizes.slice(start, take).sum()) if sizes is not None else 0
            self.rows += take
            start += take
            if start < frame.height:
                self._roll()

    def final_paths(self) -> list[Path]:
        """Where the clean rows end up: OUT, or its parts when there is more than one."""
        return [self.path] if len(self.sinks) == 1 else [s.file.path for s in self.sinks]

    def stale_paths(self) -> list[Path]:
        """Files an earlier run with the same OUT left that this one does not write: its parts
        (OUT.part-NNN) and, when this run writes parts, OUT itself. Removed on commit."""
        if self.stream:
            return []
        keep = {p.name for p in self.final_paths()}
        suffix = self.path.suffix or ".csv"
        stem = self.path.name[: -len(self.path.suffix)] if self.path.suffix else self.path.name
        part = re.compile(re.escape(stem) + r"\.part-\d{3,}" + re.escape(suffix) + "$")
        parent = self.path.parent if str(self.path.parent) else Path(".")
        try:
            names = [n for n in os.listdir(parent) if part.match(n) or (n == self.path.name and len(self.sinks) > 1)]
        except OSError:
            return []
        return sorted(self.path.with_name(n) for n in names if n not in keep and (parent / n).is_file())

    def commit(self) -> None:
        """Finish every part; a single part is moved to OUT itself; stale parts are removed."""
        stale = self.stale_paths()
        for sink in self.sinks:
            sink.commit()
        if len(self.sinks) == 1 and not self.stream:
            try:
                os.replace(self.sinks[0].file.path, self.path)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot write it ({exc.strerror})")
        for path in stale:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OutputError(f"{path}: an earlier run's part cannot be removed ({exc.strerror}): remove it")

    def discard(self) -> None:
        """Remove every partial part."""
        for sink in self.sinks:
            sink.discard()


class JsonlSink:
    """Appends rows to a JSON Lines file, one object per row, shaped by `shape` (default: as is)."""

    def __init__(self, path: str | os.PathLike, columns: list[str],
                 shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self.file = AtomicFile(path)
        self.columns = columns
        self.shape = shape or (lambda row: {k: v for k, v in row.items() if v is not None})
        self.rows = 0

    def final_paths(self) -> list[Path]:
        """The one output file."""
        return [self.file.path]

    def stale_paths(self) -> list[Path]:
        """Nothing: JSON Lines output is one file."""
        return []

    def encode(self, frame: pl.DataFrame) -> None:
        """Rows are encoded as they are written (nothing to do in another thread)."""
        return None

    def write(self, frame: pl.DataFrame, data: bytes | None = None) -> None:
        """Append rows."""
        import json

        lines = [json.dumps(self.shape(row), ensure_ascii=False) + "\n" for row in
                 frame.select(self.columns).iter_rows(named=True)]
        with self.file.writing() as fh:
            fh.write("".join(lines).encode("utf-8"))
        self.rows += frame.height

    def commit(self) -> None:
        """Finish the file."""
        self.file.commit()

    def discard(self) -> None:
        """Remove the partial file."""
        self.file.discard()


def size_bytes(size: int | str) -> int:
    """'10MB', '32 MB', '500KB' or a number -> bytes."""
    if isinstance(size, int):
        value = size
    else:
        t = str(size).strip().upper().replace(" ", "")
        mult = 1
        for unit, m in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
            if t.endswith(unit):
                t, mult = t[: -len(unit)], m
                break
        try:
            value = int(float(t) * mult)
        except ValueError:
            raise OutputError(f"not a size: {size!r} (use e.g. 10MB)")
    if value <= 0:
        raise OutputError(f"size must be positive: {size!r}")
    return value


class Sink(Protocol):
    """What every clean-file sink offers (`FORMATS` makes them)."""

    rows: int

    def encode(self, frame: pl.DataFrame) -> bytes | None:
        """`frame` in the sink's format, or None when `write` encodes itself (may run in a thread)."""

    def write(self, frame: pl.DataFrame, data: bytes | None = None) -> None:
        """Append rows (`data`: their `encode`)."""

    def final_paths(self) -> list[Path]:
        """The files the rows end up in."""

    def stale_paths(self) -> list[Path]:
        """Files of an earlier run with the same name that commit removes (old parts)."""

    def commit(self) -> None:
        """Move the files into place."""

    def discard(self) -> None:
        """Remove the partial files."""


SinkFactory = Callable[[Path, list[str], "Options", dict[str, Any], Any], Sink]
FORMATS: dict[str, SinkFactory] = {}  # output format name -> sink factory


def output_format(name: str) -> Callable[[SinkFactory], SinkFactory]:
    """Register a clean-file format under `name` (`--format NAME`)."""
    def deco(fn: SinkFactory) -> SinkFactory:
        FORMATS[name] = fn
        return fn
    return deco


def open_sink(fmt: str, path: Path, columns: list[str], options: Options, conf: dict[str, Any],
              shape: Any = None) -> Sink:
    """The sink of format `fmt` for `path`: `options` win over the schema's `output:` settings `conf`."""
    if fmt not in FORMATS:
        raise OutputError(f"unknown output format {fmt!r}: use {' or '.join(sorted(FORMATS))}")
    return FORMATS[fmt](path, columns, options, conf, shape)


@output_format("csv")
def _csv_sink(path: Path, columns: list[str], options: Options, conf: dict[str, Any], shape: Any) -> Sink:
    if is_stream(path):  # one stream: the schema's part sizes do not apply (given ones are refused)
        conf = {k: v for k, v in conf.items() if k not in ("max_rows", "max_bytes")}
    rows = options.max_rows if options.max_rows is not None else conf.get("max_rows")
    size = options.max_bytes if options.max_bytes is not None else conf.get("max_bytes")
    return PartedCsvSink(path, columns, delimiter_char(options.out_delimiter or conf.get("delimiter", ",")),
                         line_ending(options.line_ending or conf.get("line_ending", "LF")),
                         int(rows) if rows else None, size_bytes(size) if size else None)


@output_format("jsonl")
def _jsonl_sink(path: Path, columns: list[str], options: Options, conf: dict[str, Any], shape: Any) -> Sink:
    if any(x is not None for x in (options.out_delimiter, options.line_ending, options.max_rows, options.max_bytes)):
        raise OutputError("--out-delimiter, --line-ending, --max-rows and --max-bytes apply to CSV output only: "
                          "drop them or use --format csv")
    return JsonlSink(path, columns, shape)
