"""Read any CSV source into batches of text frames keyed by physical line number."""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import shutil
import stat
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union

import polars as pl

from .errors import EncodingError, InputError
from .issues import LINE, RAW, REASONS, issue, issues_at
from .options import CHUNK_BYTES
from .sniff import CONFIDENT, DELIMITERS, SAMPLE_BYTES, Dialect, Encoding, detect_encoding, guess_dialect

Source = Union[str, os.PathLike, IO[bytes], IO[str], bytes, pl.DataFrame]
BAD_SCHEMA = {LINE: pl.Int64, RAW: pl.String, "code": pl.String, "message": pl.String}
RESERVED = {LINE, RAW, REASONS}  # columns csvprep adds to its own frames and rejects files
PREAMBLE_SCAN_LINES = 200  # lines of the sample looked at to find a title row or notes
PREAMBLE_MAX_ROWS = 30  # at most this many rows above the header are skipped as a preamble
HEAD_CHARS = 1 << 16  # the start of the file read line by line, for the header and title rows
STDIN = "-"  # as a source: standard input (spooled to a temporary file when it is not seekable)
TRAIL = "\x00trail"  # the unnamed empty column after a trailing delimiter, while reading
TRAIL_ROWS = 2  # rows that must all end in an empty cell past the header for a trailing delimiter
REJECTS = (LINE, REASONS, RAW)  # a rejects file's own columns: first, second and last
# header cells that look like data: emails, phone numbers, numbers (not years, which head columns)
_DATA_LIKE = re.compile(r"""^(?:[^@\s]+@[^@\s]+\.[^@\s]+
    |\+?\(?\d[\d\s().-]{5,}\d
    |[-+]?(?!(?:19|20)\d\d$)\d[\d,]*(?:\.\d+)?)$""", re.VERBOSE)


@dataclass
class ReadInfo:
    """What was learned about the source before reading its rows."""

    name: str
    encoding: Encoding
    dialect: Dialect
    header: list[str]
    header_line: int  # 0: the file has no header line
    size: int | None
    issues: list[dict[str, Any]] = field(default_factory=list)
    rerun: bool = False  # the source is a rejects file given back (its `_line`s are the original lines)
    trailing: bool = False  # every row ends in a delimiter: the empty cell after it is no column


@dataclass
class Batch:
    """Well-formed rows (`_line` + one text column per header) and structurally bad rows."""

    rows: pl.DataFrame
    bad: pl.DataFrame
    bytes_done: int
    warnings: pl.DataFrame | None = None  # issues (issues.ISSUE_SCHEMA) on rows that were still read


def list_series(records: list[list[str] | None]) -> pl.Series:
    """A List(String) Series of Python lists of strings (or None). Built by polars from joined
    text, which is many times faster than polars' per-row construction of list values."""
    sep = "\x1f"
    joined = [None if r is None else sep.join(r) for r in records]
    # exact when no record is empty and no value holds the separator (then the counts agree)
    if all(r != [] for r in records) and sum(j.count(sep) for j in joined if j is not None) == sum(
            len(r) - 1 for r in records if r is not None):
        return pl.Series("fields", joined, dtype=pl.String).str.split(sep)
    return pl.Series("fields", records, dtype=pl.List(pl.String))


def _empty_bad() -> pl.DataFrame:
    return pl.DataFrame(schema=BAD_SCHEMA)


def _open_path(path: Path) -> IO[bytes]:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file: check the path")
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a file: give a CSV file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file (pipe or device): save it to a file first")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open it ({exc.strerror}): check its permissions")


def _seekable(fh: Any) -> bool:
    try:
        return bool(fh.seekable()) and fh.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _spool(fh: Any) -> IO[bytes]:
    """A stream that cannot seek (a pipe) copied to an anonymous temporary file: the sample and
    the chunks are read from there."""
    tmp = tempfile.TemporaryFile(prefix="csvprep-stdin-")
    try:
        shutil.copyfileobj(fh, tmp, 1 << 20)
    except OSError as exc:
        tmp.close()
        raise InputError(f"cannot read the input stream ({exc.strerror})")
    tmp.seek(0)
    return tmp


def _split_raw(raw: str, dialect: Dialect) -> tuple[list[str], str | None]:
    """The cells of one record's raw text, or a code when it is not one whole record."""
    try:
        records = list(csv.reader(io.StringIO(raw), delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"',
                                  strict=True))
    except csv.Error:
        return [], "row.unterminated_quote"
    if len(records) != 1:
        return [], "row.unterminated_quote" if records else "row.blank"
    return records[0], None


def dedupe_header(raw: list[str], line: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Give blank and repeated header cells unique names, with an issue for each."""
    names: list[str] = []
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, cell in enumerate(raw, start=1):
        name = " ".join(cell.split())
        if not name:
            name = f"column_{i}"
            issues.append(issue(line, name, cell, "header.blank", "warning",
                                 f"column {i} has no name; it is called {name!r} here", name))
        elif name in seen:
            new = f"{name}_{i}"
            issues.append(issue(line, name, cell, "header.duplicate", "warning",
                                 f"column {i} repeats the name {name!r}; it is called {new!r} here", new))
            name = new
        elif name in RESERVED or name == "*" or (name.startswith("^") and name.endswith("$")):
            # csvprep's own columns (a rejects file checked again), or names polars reads as a
            # wildcard or a regular expression in pl.col()
            new = f"{name}_{i}"
            why = "a name csvprep uses itself" if name in RESERVED else "a name read as a pattern"
            issues.append(issue(line, name, cell, "header.reserved", "warning",
                                 f"column {i} is called {name!r}, {why}; it is called {new!r} here", new))
            name = new
        seen.add(name)
        names.append(name)
    return names, issues


def _hex(chars: str) -> str:
    """`chars` as regex escapes (\\x{..}), safe inside and outside a character class."""
    return "".join(f"\\x{{{ord(c):X}}}" for c in chars)


def _line_breaks(data: bytes, after_cr: bool = False) -> int:
    """Line breaks in raw bytes as the reader counts them: CRLF, CR and LF are one each."""
    n = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return n - 1 if after_cr and data.startswith(b"\n") else n


def refuse_nested(frame: pl.DataFrame) -> None:
    """Raise InputError when a column holds lists, structs, objects or bytes (no text form)."""
    for column, dtype in frame.schema.items():
        if dtype.is_nested() or dtype in (pl.Object, pl.Binary):
            raise InputError(f"column {column!r} holds {dtype} values: csvprep checks text, numbers and dates; "
                             "flatten or cast it first")


class CsvReader:
    """Detects encoding, dialect and header, then yields row batches in bounded memory."""

    utf8_bytes = True  # False: UTF-8 is decoded chunk by chunk like other encodings (tests compare)
    _start_line = 1  # the line of the first byte read (a span starts later)
    # reading state that `span` readers share with the defaults (see __init__)
    _fh: IO[bytes] | None = None
    _start = 0
    _last_line = 0
    _raw_dialect: Dialect | None = None
    _renumbered = False
    skip_lines = 0
    has_header = True
    _sample: list[list[str]] = []

    def __init__(self, source: Source, encoding: str | None = None, delimiter: str | None = None,
                 chunk_bytes: int = CHUNK_BYTES, name: str | None = None, native: bool = True, *,
                 header: bool = True, columns: list[str] | None = None, positional: bool = False,
                 skip_lines: int = 0) -> None:
        """`header=False`: the first row is data, its columns are named by `columns` (else
        column_1..N); `columns` with a header renames its cells. `positional`: `columns` name the
        first columns only (a schema's fields, in order); the rest are column_N. `skip_lines`:
        physical lines before the header (or the first row) that are not read at all."""
        self.chunk_bytes = chunk_bytes
        self.native = native  # read regular chunks with polars' reader (False: always line by line)
        self.native_rows = 0  # rows that polars' reader read (the rest went line by line)
        self.has_header = header
        self.columns = list(columns) if columns else None
        self.positional = positional
        self.skip_lines = skip_lines
        self._frame: pl.DataFrame | None = None
        self._path: Path | None = None
        self._data: bytes | None = None
        self._text: str | None = None
        self._fh = None  # a seekable binary stream (standard input, or its spooled copy)
        self._start = 0  # where the data starts in `_fh`
        self._names: list[str] = []  # the cells a record is read into (the header, or a rejects file's)
        self._last_line = 0  # rerun: the last original line given so far
        self._raw_dialect = None  # rerun: the original file's dialect, read from `_raw`
        self._renumbered = False
        if isinstance(source, str) and source == STDIN:
            source, name = sys.stdin.buffer, name or "<stdin>"
        if isinstance(source, pl.DataFrame):
            refuse_nested(source)
            self._frame = source
            self.info = self._frame_info(source, name or "<DataFrame>")
            return
        if isinstance(source, (str, os.PathLike)):
            self._path = Path(source)
            with _open_path(self._path) as fh:
                sample = fh.read(SAMPLE_BYTES)
            size = self._path.stat().st_size
            label = name or str(source)
        elif isinstance(source, (bytes, bytearray)):
            self._data = bytes(source)
            sample, size, label = self._data[:SAMPLE_BYTES], len(self._data), name or "<bytes>"
        elif isinstance(source, io.TextIOBase) or (hasattr(source, "read") and isinstance(getattr(source, "encoding", None), str)):
            self._text = source.read()
            sample, size, label = b"", len(self._text), name or getattr(source, "name", "<text>")
        elif hasattr(source, "read"):
            fh = source if _seekable(source) else _spool(source)
            self._start = fh.tell()
            first = fh.read(SAMPLE_BYTES)
            if isinstance(first, str):
                self._text = first + fh.read()  # type: ignore[operator]
                sample, size = b"", len(self._text)
            else:
                self._fh, sample = fh, first
                size = fh.seek(0, io.SEEK_END) - self._start
            label = name or str(getattr(source, "name", "<stream>"))
        else:
            raise InputError(f"cannot read a {type(source).__name__}: give a path, a file object or a polars DataFrame")
        self.name = label
        if self._text is not None:
            enc = Encoding("utf-8", "text", 1.0)
            if not self._text.strip():
                raise InputError(f"{label}: the input is empty: there is no header row")
        else:
            if size == 0:
                raise InputError(f"{label}: the file is empty: there is no header row")
            enc = detect_encoding(sample, encoding)
            # only the BOM found is skipped: b"\xfe" alone is the cp1252 text "þ", not a BOM
            if not sample[enc.bom:].strip(b"\x00\t\r\n "):
                raise InputError(f"{label}: the file is empty: there is no header row")
        self.encoding = enc
        text_sample = self._decode_sample(sample) if self._text is None else self._text[:SAMPLE_BYTES]
        text_sample = text_sample.replace("\r\n", "\n").replace("\r", "\n")
        if not text_sample.strip():
            raise InputError(f"{label}: the file is empty: there is no header row")
        if skip_lines:  # the skipped lines say nothing about the dialect or the header
            text_sample = "\n".join(text_sample.split("\n")[skip_lines:])
        guess = guess_dialect(text_sample, delimiter)
        self.info = ReadInfo(label, enc, guess.dialect, [], 0, size)
        if enc.source == "chardet" and (enc.confidence or 0.0) < CONFIDENT:
            self.info.issues.append(issue(
                None, None, enc.name, "encoding.guessed", "warning",
                f"the encoding {enc.name} is a guess (confidence {enc.confidence or 0.0:.2f}): if letters look wrong, "
                "give --encoding (e.g. cp1252, latin-1, utf-8)"))
        if guess.weak:
            shown = ", ".join(f"{d!r} ({score:g})" for d, score in guess.candidates)
            self.info.issues.append(issue(
                None, None, guess.dialect.delimiter, "dialect.guessed", "warning",
                f"the delimiter is a guess: {guess.weak}; candidates by score: {shown}; "
                "give --delimiter if it is wrong"))
        whole = self._text is not None or (size or 0) <= SAMPLE_BYTES
        found = self._find_header_line(text_sample, whole) if header else 0
        self._header_at = found + skip_lines if found else 0
        self._sample = self._sample_records(text_sample, whole, found)
        self._blank_before = 0  # blank lines before the header in earlier chunks
        self._batches = self._read_records()
        self._first = next(self._batches, None)

    @classmethod
    def span(cls, data: bytes, info: ReadInfo, encoding: Encoding, first_line: int,
             chunk_bytes: int = CHUNK_BYTES) -> CsvReader:
        """A reader of `data`, bytes of a file that start on a record boundary after its header,
        at line `first_line`: read with the encoding, dialect and header that a reader of the
        whole file found (`info`, `encoding`), so its rows are the whole file's rows there."""
        self = cls.__new__(cls)
        self.chunk_bytes, self.native, self.native_rows = chunk_bytes, True, 0
        self._frame, self._path, self._data, self._text = None, None, bytes(data), None
        self.name = info.name
        self.encoding = Encoding(encoding.name, encoding.source, encoding.confidence, 0)  # no BOM here
        self.info = ReadInfo(info.name, self.encoding, info.dialect, list(info.header), info.header_line, len(data),
                             rerun=info.rerun, trailing=info.trailing)
        self._names = self._read_names()
        self.native = self.native and not info.rerun
        self._start_line = first_line
        self._header_at, self._blank_before = 0, 0
        self._batches = self._read_records()
        self._first = None
        return self

    # -- sources -----------------------------------------------------------------------------
    def _frame_info(self, frame: pl.DataFrame, label: str) -> ReadInfo:
        raw = [str(c) for c in frame.columns]
        header, issues = dedupe_header(raw, 1)
        self.name = label
        return ReadInfo(label, Encoding("utf-8", "dataframe"), Dialect(","), header, 1, None, issues)

    def _decode_sample(self, sample: bytes) -> str:
        try:
            return codecs.getincrementaldecoder(self.encoding.name)().decode(sample[self.encoding.bom:], final=False)
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, sample[self.encoding.bom:], 0)

    def _decode_error(self, exc: UnicodeDecodeError, chunk: bytes, chunk_start: int) -> EncodingError:
        """The error for an undecodable byte; `chunk` starts `chunk_start` bytes after the BOM."""
        data = exc.object if isinstance(exc.object, bytes) else chunk  # held bytes + this chunk
        offset = chunk_start - (len(data) - len(chunk)) + exc.start
        line = self._line_at(offset)
        bad = data[exc.start: exc.start + 1].hex()
        hint = "try --encoding cp1252 (or latin-1)" if self.encoding.name.startswith("utf") else "try --encoding utf-8"
        return EncodingError(
            f"{self.name}: byte 0x{bad} on line {line} is not valid {self.encoding.name}: {hint}")

    def _line_at(self, offset: int) -> int:
        """The line number of the byte `offset` bytes after the BOM (read again: errors only)."""
        breaks, after_cr, start = 0, False, 0
        for chunk, _ in self._byte_chunks():
            part = chunk[: max(0, offset - start)]
            breaks += _line_breaks(part, after_cr)
            after_cr = part.endswith(b"\r")
            start += len(chunk)
            if start >= offset:
                break
        return breaks + self._start_line

    def _byte_chunks(self) -> Iterator[tuple[bytes, int]]:
        if self._data is not None:
            data = self._data[self.encoding.bom:]
            for start in range(0, len(data), self.chunk_bytes):
                yield data[start: start + self.chunk_bytes], min(len(data), start + self.chunk_bytes)
            return
        if self._fh is not None:
            self._fh.seek(self._start + self.encoding.bom)
            done = self.encoding.bom
            while chunk := self._fh.read(self.chunk_bytes):
                done += len(chunk)
                yield chunk, done
            return
        assert self._path is not None
        with _open_path(self._path) as fh:
            fh.seek(self.encoding.bom)
            done = self.encoding.bom
            while True:
                chunk = fh.read(self.chunk_bytes)
                if not chunk:
                    return
                done += len(chunk)
                yield chunk, done

    def _text_chunks(self) -> Iterator[tuple[str, int, bool]]:
        """Decoded text in chunks, with bytes consumed and whether it is the last chunk."""
        if self._text is not None:
            yield self._text, len(self._text), True
            return
        decoder = codecs.getincrementaldecoder(self.encoding.name)(errors="strict")
        start = 0
        done = 0
        for chunk, done in self._byte_chunks():
            try:
                text = decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                raise self._decode_error(exc, chunk, start)
            start += len(chunk)
            yield text, done, False
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise EncodingError(f"{self.name}: the file ends in the middle of a {self.encoding.name} character: "
                                f"it may be truncated, or try --encoding cp1252") from exc
        yield tail, done, True

    # -- header ------------------------------------------------------------------------------
    def _find_header_line(self, text: str, whole: bool) -> int:
        """The header's line when rows above it look like a title or notes (one or two filled
        cells where the table has three or more columns), else 0. Uses the decoded sample, so the
        answer does not depend on the chunk size."""
        lines = text.split("\n")
        if not whole:
            lines = lines[:-1]  # the sample may end inside a line
        lines = lines[:PREAMBLE_SCAN_LINES]
        records: list[tuple[int, int, int]] = []  # (first line, filled cells, cells)
        reader = csv.reader(iter(lines), **self._csv_kwargs())
        start = 1
        try:
            for rec in reader:
                filled = sum(1 for c in rec if c.strip())
                if filled:
                    records.append((start, filled, len(rec)))
                start = reader.line_num + 1
        except csv.Error:
            return 0
        if len(records) < 3:
            return 0
        widths = Counter(n for _, _, n in records)
        modal = max(widths.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if modal < 3:
            return 0
        for i, (line, filled, _) in enumerate(records[: PREAMBLE_MAX_ROWS + 1]):
            if not (filled <= 2 and 2 * filled < modal):
                return line if i else 0
        return 0

    def _sample_records(self, text: str, whole: bool, header_at: int) -> list[list[str]]:
        """The filled records of the decoded sample from the header (line `header_at` of `text`,
        else its first record) on, in its first PREAMBLE_SCAN_LINES lines: what decides a
        trailing delimiter and the width of a file without a header, whatever the chunk size."""
        lines = text.split("\n")
        if not whole:
            lines = lines[:-1]  # the sample may end inside a line
        reader = csv.reader(iter(lines[:PREAMBLE_SCAN_LINES]), **self._csv_kwargs())
        out: list[list[str]] = []
        start = 1
        try:
            for rec in reader:
                if start >= header_at and any(c.strip() for c in rec):
                    out.append(rec)
                start = reader.line_num + 1
        except csv.Error:
            pass
        return out

    # -- records -----------------------------------------------------------------------------
    def _csv_kwargs(self) -> dict[str, Any]:
        d = self.info.dialect
        kw: dict[str, Any] = {"delimiter": d.delimiter, "strict": False}
        if d.quotechar:
            kw["quotechar"] = d.quotechar
        else:
            kw["quoting"] = csv.QUOTE_NONE
        if d.escapechar:
            kw["escapechar"] = d.escapechar
        return kw

    def _split_records(self, lines: list[str], first_line: int, final: bool) -> tuple[pl.DataFrame, list[str]]:
        """Group physical lines into records; return (records, lines to carry)."""
        d = self.info.dialect
        n = len(lines)
        text = pl.Series(RAW, lines, dtype=pl.String)
        line_no = pl.int_range(first_line, first_line + n, eager=True).alias(LINE)
        slow_from = n
        if d.escapechar:
            slow_from = 0
        elif d.quotechar and n:
            counts = text.str.count_matches(d.quotechar, literal=True)
            # an odd count leaves a quote open; so can an even one, when a quote inside a cell
            # comes before one that opens a cell (`,";"` with ';'): the csv module reads both
            suspect = (counts % 2 == 1) | ((counts > 0) & ~text.str.contains(self._edge_pattern(doubled=True)))
            if suspect.any():
                slow_from = int(suspect.arg_true()[0])
        fast = pl.DataFrame([line_no[:slow_from], text[:slow_from]])
        parts = [self._parse_single_lines(fast)]
        carry: list[str] = []
        if slow_from < n:
            rows: list[tuple[int, str, list[str]]] = []
            sentinel = "\x00csvprep-sentinel\x00"
            tail = lines[slow_from:]
            reader = csv.reader((ln + "\n" for ln in [*tail, sentinel]), **self._csv_kwargs())
            consumed = 0
            for record in reader:
                start, consumed = consumed, reader.line_num
                if consumed > len(tail):  # the sentinel was reached
                    if consumed - start > 1 or record != [sentinel]:
                        if not final:
                            carry = tail[start:]
                        else:
                            raw = "\n".join(tail[start:])
                            rows.append((first_line + slow_from + start, raw, None))  # type: ignore[arg-type]
                    break
                raw = "\n".join(tail[start:consumed])
                rows.append((first_line + slow_from + start, raw, record))
            parts.append(pl.DataFrame(
                [pl.Series(LINE, [r[0] for r in rows], dtype=pl.Int64), pl.Series(RAW, [r[1] for r in rows], dtype=pl.String),
                 list_series([r[2] for r in rows])]))
        return pl.concat(parts), carry

    def _edge_pattern(self, doubled: bool, multiline: bool = False) -> str:
        """A line whose quotes all stand at cell edges: unquoted cells without a quote and quoted
        cells, with doubled quotes inside them when `doubled`. `multiline`: a record of lines
        joined with LF, the line breaks inside quoted cells only."""
        d = self.info.dialect
        e, q, delim = _hex, d.quotechar or "", d.delimiter
        inside = f"(?:[^{e(q)}]|{e(q)}{e(q)})*" if doubled else f"[^{e(q)}]*"
        plain = f"[^{e(delim)}{e(q)}\\n]*" if multiline else f"[^{e(delim)}{e(q)}]*"
        cell = f"(?:{plain}|{e(q)}{inside}{e(q)})"
        return f"^{cell}(?:{e(delim)}{cell})*$"

    def _parse_single_lines(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Split one-line records: plain ones with polars, quoted ones with the csv module."""
        d = self.info.dialect
        frame = frame.with_columns(pl.col(LINE).cast(pl.Int64))
        if d.quotechar:
            has_quote = frame[RAW].str.contains(d.quotechar, literal=True)
        else:
            has_quote = pl.Series([False] * frame.height, dtype=pl.Boolean)
        if not has_quote.any():
            return frame.with_columns(fields=pl.col(RAW).str.split(d.delimiter))
        quoted = frame.filter(has_quote)
        raws = quoted[RAW].to_list()
        reader = csv.reader(raws, **self._csv_kwargs())
        fields: list[list[str] | None] = []
        try:
            for i, record in enumerate(reader):
                if reader.line_num != i + 1:
                    raise csv.Error("record spans lines")
                fields.append(record)
        except csv.Error:
            fields = []
            for raw in raws:
                fields.append(next(csv.reader([raw], **self._csv_kwargs()), []))
        if len(fields) != len(raws):  # a trailing empty record
            fields = [next(csv.reader([raw], **self._csv_kwargs()), []) for raw in raws]
        sep = "\x1f"
        if all(fields) and not frame[RAW].str.contains(sep, literal=True).any():
            # one split for all rows, in line order: plain rows on the delimiter, quoted rows on
            # the separator between the values the csv module found
            text = frame[RAW].str.replace_all(d.delimiter, sep, literal=True)
            text = text.scatter(has_quote.arg_true(), pl.Series([sep.join(f) for f in fields], dtype=pl.String))
            return frame.with_columns(fields=text.str.split(sep))
        plain = frame.filter(~has_quote).with_columns(fields=pl.col(RAW).str.split(d.delimiter))
        quoted = quoted.with_columns(fields=list_series(fields))
        return pl.concat([plain, quoted]).sort(LINE)

    def _utf8_bytes(self) -> bool:
        """Whether chunks stay bytes until a line needs the line path (UTF-8 files and bytes):
        polars reads UTF-8 itself, so regular chunks are never decoded in Python."""
        return self.utf8_bytes and self._text is None and self.encoding.name == "utf-8"

    def _raw_pieces(self) -> Iterator[tuple[bytes, int, bool]]:
        """The byte chunks, then an empty final piece (as _text_chunks ends): the last line is
        read exactly as the decoded path reads it."""
        done = 0
        for chunk, done in self._byte_chunks():
            yield chunk, done, False
        yield b"", done, True

    def _pieces(self) -> Iterator[tuple[str | bytes, int, bool]]:
        """The chunks (decoded, or bytes for UTF-8: see _utf8_bytes), the first one cut after
        HEAD_CHARS so that the header and any title rows are read by the line path and the rest
        of the chunk by polars' reader."""
        first = True
        for text, done, final in (self._raw_pieces() if self._utf8_bytes() else self._text_chunks()):
            if first and len(text) > 2 * HEAD_CHARS:
                yield text[:HEAD_CHARS], done, False
                text = text[HEAD_CHARS:]
            first = False
            yield text, done, final

    def _polars_dialect(self) -> bool:
        """Whether polars' reader can read the dialect at all (one ASCII delimiter and quote)."""
        d = self.info.dialect
        q, delim = d.quotechar, d.delimiter
        return not d.escapechar and len(delim) == 1 and delim.isascii() and (not q or (len(q) == 1 and q.isascii()))

    @staticmethod
    def _cut_lines(carry: bytes, piece: str | bytes, final: bool) -> tuple[bytes, str | bytes]:
        """(`carry` + `piece` as UTF-8 bytes up to its last LF, or whole when final; what follows,
        in the piece's type). A chunk of bytes is joined to the carry with one copy: slicing it
        first would copy it twice."""
        if isinstance(piece, str):
            raw = piece.encode("utf-8")  # a LF byte always ends a character
            cut = len(raw) if final else raw.rfind(b"\n") + 1
            return raw[:cut], raw[cut:].decode("utf-8")
        if final:
            return carry + piece, b""
        cut = piece.rfind(b"\n") + 1
        if not cut:  # no LF in the piece: the lines end in the carry, if anywhere
            cut = carry.rfind(b"\n") + 1
            return carry[:cut], carry[cut:] + piece
        return b"".join((carry, memoryview(piece)[:cut])), piece[cut:]

    def _native(self, data: bytes, first_line: int, final: bool) -> tuple[pl.DataFrame, int, int] | None:
        """(rows, lines consumed, bytes consumed) when polars' own CSV reader can read the records
        of `data` (whole lines, cut by _cut_lines) exactly as the line path would: every record
        with exactly the header's cells, every quote at a cell's edge or doubled inside a quoted
        cell, no blank rows. A record may span lines (a quoted line break); a record still open
        at the end of `data` is left to the next chunk (bytes consumed stop before it). None when
        polars cannot; the caller then uses the line path, which reports what is wrong where."""
        d = self.info.dialect
        q, delim = d.quotechar, d.delimiter
        if final and data and not data.endswith(b"\n"):
            data += b"\n"
        header = self.info.header + [TRAIL] if self.info.trailing else self.info.header
        if not data:
            return pl.DataFrame(schema={LINE: pl.Int64, **dict.fromkeys(self.info.header, pl.String)}), 0, 0
        if data.startswith(codecs.BOM_UTF8):  # polars would drop a BOM there
            return None
        # the physical lines, read by polars (CRLF ends a line too), checked as text
        try:
            lines = pl.read_csv(data, has_header=False, separator="\x00", quote_char=None,
                                schema={"l": pl.String}, empty_string_is_null=False)["l"]
        except Exception:  # not UTF-8, or a NUL (a second field here): the line path says where
            return None
        if b"\r" in data and lines.str.contains("\r", literal=True).any():  # a CR that ends no line
            return None
        starts = None  # the index of each record's first line, when a record spans lines
        used = len(data)
        records = lines
        quotes = 0
        quoted_rows = None  # the rows whose record holds a quote (None: every row)
        if q and q.encode() in data:
            has_quote = lines.str.contains(q, literal=True)
            if (lines.filter(has_quote).str.count_matches(q, literal=True) % 2 == 1).any():
                counts = lines.str.count_matches(q, literal=True).cast(pl.Int64)
                if b"\r" in data:  # a CRLF inside a quoted cell: the line path reads it as LF
                    return None
                ends = (counts.cum_sum() % 2 == 0)  # the quotes are balanced after this line
                whole = int(ends.arg_true()[-1]) + 1 if ends.any() else 0
                if whole == 0 or (whole < lines.len() and final):
                    return None  # no record ends here, or the file ends inside one: the line path
                if whole < lines.len():  # the last record goes on in the next chunk
                    used = int(lines.head(whole).str.len_bytes().cast(pl.Int64).sum()) + whole
                    data, lines, counts, ends = data[:used], lines.head(whole), counts.head(whole), ends.head(whole)
                first = ends.shift(1, fill_value=True)
                rid = first.cast(pl.UInt32).cum_sum()
                starts = first.arg_true()
                records = pl.DataFrame({"l": lines, "r": rid}).group_by("r", maintain_order=True).agg(
                    pl.col("l").str.join("\n"))["l"]
                has_quote = records.str.contains(q, literal=True)
            quotes = self._edge_quotes(records.filter(has_quote))
            if quotes is None:
                return None
            quoted_rows = has_quote
        # with every quoted cell whole in its record, polars splits each record into the cells the
        # csv module finds; it refuses a record with more cells than the header
        try:
            frame = pl.read_csv(data, has_header=False, schema=dict.fromkeys(header, pl.String),
                                separator=delim, quote_char=q or None, empty_string_is_null=False,
                                truncate_ragged_lines=False, raise_if_empty=False)
        except Exception:  # the line path says where
            return None
        if frame.height != records.len() or self._short_or_blank(frame, records, quotes, quoted_rows):
            return None
        if self.info.trailing:  # every record ended in a delimiter, with nothing after it
            if (frame[TRAIL] != "").any():
                return None
            frame = frame.drop(TRAIL)
        if starts is None:
            frame = frame.with_row_index(LINE, offset=first_line).with_columns(pl.col(LINE).cast(pl.Int64))
        else:
            frame = frame.select(pl.Series(LINE, starts, dtype=pl.Int64) + first_line, pl.all())
        return frame, lines.len(), used

    def _edge_quotes(self, quoted: pl.Series) -> int | None:
        """The number of quote characters in `quoted` (records holding a quote) when every one
        holds only whole quoted cells (doubled quotes and line breaks inside them) and unquoted
        cells with neither; None when not."""
        q = self.info.dialect.quotechar or ""
        if not quoted.str.contains(self._edge_pattern(doubled=True, multiline=True)).all():
            return None
        return int(quoted.str.count_matches(q, literal=True).cast(pl.Int64).sum())

    def _short_or_blank(self, frame: pl.DataFrame, lines: pl.Series, quotes: int,
                        quoted_rows: pl.Series | None = None) -> bool:
        """Whether a record of `frame` (one row per record in `lines`, quotes at cell edges or
        doubled inside quoted cells) has fewer cells than the header or only blank cells."""
        d = self.info.dialect
        e, q, delim = _hex, d.quotechar or "", d.delimiter
        # a line's bytes are its values', its delimiters' and its quotes' (two per quoted cell, and
        # each doubled quote one more than its value's):
        # polars pads a short line with empty cells and refuses a long one, so the delimiters
        # add up to (cells - 1) a line only when every line has all the header's cells
        size = frame.select(pl.sum_horizontal(pl.all().str.len_bytes().cast(pl.Int64).sum())).item()
        if quotes:  # a doubled quote is two bytes of the line and one of its value
            held = frame if quoted_rows is None else frame.filter(quoted_rows)
            size -= held.select(pl.sum_horizontal(pl.all().str.count_matches(q, literal=True)
                                                  .cast(pl.Int64).sum())).item()
        delims = int(lines.str.len_bytes().cast(pl.Int64).sum()) - size - quotes
        if delims != lines.len() * (frame.width - 1):
            return True
        # a blank row's first cell is empty or starts with whitespace: U+0009-U+0020, or U+0085 and up
        first = frame.to_series(0)
        maybe = lines.filter((first < "!") | (first >= "\x85"))
        return bool(maybe.str.contains(f"^[\\s{e(delim)}{e(q)}]*$").any())

    def _whole_lines(self, data: bytes, final: bool) -> tuple[str, bytes]:
        """(the whole lines of UTF-8 `data` as text, the bytes after them); a CR at the very end
        stays behind, as it may start a CRLF."""
        cut = len(data) if final else max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
        try:
            return data[:cut].decode("utf-8"), data[cut:]
        except UnicodeDecodeError:
            for _ in self._text_chunks():  # decodes from the start: raises the error with its line
                pass
            raise EncodingError(f"{self.name}: the file is not valid UTF-8: try --encoding cp1252")

    def _read_records(self) -> Iterator[Batch]:
        """Yield the header-less batches; sets the header on the first one."""
        carry = ""
        carry_b = b""  # bytes mode: what the next chunk continues (whole lines not yet read, or a part line)
        hold_cr = ""
        next_line = self._start_line
        header_done = self._start_line > 1  # a span (CsvReader.span) starts after the header
        for piece, done, final in self._pieces():
            as_bytes = isinstance(piece, bytes)
            if not as_bytes:
                piece = carry + hold_cr + piece  # the held CR ended the previous buffer, after its carry
                hold_cr = ""
                if not final and piece.endswith("\r"):
                    piece, hold_cr = piece[:-1], "\r"
            native = None
            if header_done and self.native and self._polars_dialect():
                data, rest = self._cut_lines(carry_b, piece, final)
                native = self._native(data, next_line, final)
            if native is not None:
                rows, used, used_bytes = native
                left = data[used_bytes:]  # a record that goes on in the next chunk
                if as_bytes:
                    carry_b = left + rest if left else rest  # type: ignore[assignment,operator]
                else:
                    carry = left.decode("utf-8") + rest if left else rest  # type: ignore[assignment,operator]
                next_line += used
                self.native_rows += rows.height
                if rows.height or final:
                    yield Batch(rows, _empty_bad(), done)
                continue
            buf = carry_b + piece if as_bytes else piece
            if isinstance(buf, bytes):
                buf, carry_b = self._whole_lines(buf, final)
            if "\r" in buf:
                buf = buf.replace("\r\n", "\n").replace("\r", "\n")
            lines = buf.split("\n")
            if final:
                if lines and lines[-1] == "":
                    lines.pop()
                tail = ""
            else:
                tail = lines.pop()
            records, carried = self._split_records(lines, next_line, final)
            next_line += len(lines) - len(carried)
            carry = "\n".join([*carried, tail]) if carried else tail
            if as_bytes and carry:  # whole lines of a record that goes on
                carry_b = carry.encode("utf-8") + carry_b
                carry = ""
            if not header_done:
                records = self._take_header(records)
                if records is None:
                    if final:
                        raise InputError(f"{self.name}: the file has no header row: it holds only blank lines")
                    continue
                header_done = True
            batch = self._to_batch(records, done)
            if batch.rows.height or batch.bad.height or final:
                yield batch
        if not header_done:
            raise InputError(f"{self.name}: the file has no header row")

    def _take_header(self, records: pl.DataFrame) -> pl.DataFrame | None:
        if self.skip_lines:  # not read at all (--skip-lines)
            records = records.filter(pl.col(LINE) > self.skip_lines)
        blank = records["fields"].list.eval(pl.element().str.strip_chars() == "").list.all()
        blank = blank.fill_null(False)  # no fields: a quote never closed, not a blank line
        above = (records[LINE] < self._header_at) if self._header_at else pl.repeat(False, records.height, eager=True)
        for pre in records.filter(above & ~blank).iter_rows(named=True):
            self.info.issues.append(issue(
                pre[LINE], None, (pre[RAW] or "")[:200], "header.title_row", "warning",
                f"line {pre[LINE]} above the header (line {self._header_at}) looks like a title or a note; "
                "it was skipped"))
        non_blank = (~blank & ~above).arg_true()
        if len(non_blank) == 0:
            self._blank_before += int(blank.sum())
            return None
        first = int(non_blank[0])
        blank_before = self._blank_before + int(blank.head(first).sum())
        row = records.row(first, named=True)
        if self.has_header and row["fields"] is None:  # unterminated quote in the header itself
            raise InputError(f"{self.name}: the header row (line {row[LINE]}) has a quote that is never "
                             f"closed with the delimiter {self.info.dialect.delimiter!r}: check that line, "
                             "or try --delimiter")
        rows = records.slice(first + 1 if self.has_header else first)
        # the data rows of the decoded sample decide the layout (not this chunk's: its size varies)
        filled = self._sample[1:] if self.has_header else self._sample
        enough = len(filled) >= TRAIL_ROWS
        if self.has_header:
            raw = list(row["fields"])
            # a header that ends in the delimiter too makes one data row enough to tell
            enough = enough or (len(raw) > 1 and not raw[-1].strip() and len(filled) >= 1)
            if len(raw) > 1 and not raw[-1].strip() and enough and all(len(r) == len(raw) and r[-1] == "" for r in filled):
                raw.pop()  # the header ends in the delimiter too: no column without a name
            header, header_issues, width = self._header_names(raw, row[LINE], row[RAW])
            line: int | None = row[LINE]
        else:
            header, header_issues, width = self._no_header_names(filled)
            line = None
        # every data row one empty cell longer than the header: a trailing delimiter, not data
        if width and enough and not self.info.rerun:
            if all(len(r) == width + 1 and r[-1] == "" for r in filled):
                self.info.trailing = True
                header_issues.append(issue(
                    None, None, None, "row.trailing_delimiter", "warning",
                    f"every row ends with the delimiter {self.info.dialect.delimiter!r} after its last cell; "
                    "the empty cell after it is read as an unnamed empty column and left out"))
        if blank_before:
            where = "the header" if self.has_header else "the first row"
            header_issues.insert(0, issue(line, None, None, "header.blank_lines_skipped", "warning",
                                           f"{blank_before} blank line(s) before {where} were skipped"))
        self.info.header, self.info.header_line = header, line or 0
        self._names = self._read_names()
        if self.info.rerun:
            self.native = False  # rows are rebuilt from `_raw` and renumbered: the line path does it
        self.info.issues.extend(header_issues)
        return rows

    def _read_names(self) -> list[str]:
        """The cells a record is read into: the header, or a rejects file's own columns around it."""
        header = self.info.header
        return [f"\x00{c}" for c in REJECTS[:2]] + header + [f"\x00{RAW}"] if self.info.rerun else list(header)

    def _header_names(self, raw: list[str], line: int, text: str | None) -> tuple[list[str], list[dict[str, Any]], int]:
        """(names, issues, cells per row) from the header record: a rejects file given back
        keeps its `_line`, `_reasons` and `_raw` aside; `columns` rename the cells."""
        plain = [" ".join(c.split()) for c in raw]
        if len(plain) >= 3 and (plain[0], plain[1], plain[-1]) == REJECTS:
            self.info.rerun = True
            header, found = dedupe_header(raw[2:-1], line)
            return header, found, len(raw)
        if self.columns:
            if len(self.columns) != len(raw) and not self.positional:
                raise InputError(f"{self.name}: --columns names {len(self.columns)} column(s) but the header "
                                 f"(line {line}) has {len(raw)}: give one name per column")
            names = self.columns[:len(raw)] + [f"column_{i}" for i in range(len(self.columns) + 1, len(raw) + 1)]
            header, found = dedupe_header(names, line)
            return header, found, len(raw)
        header, found = dedupe_header(raw, line)
        cells = [c.strip() for c in raw if c.strip()]
        like = [c for c in cells if _DATA_LIKE.match(c)]
        if cells and 2 * len(like) > len(cells):
            found.insert(0, issue(
                line, None, (text or "")[:200], "header.looks_like_data", "warning",
                f"the header (line {line}) looks like data ({like[0]!r}): if the file has no header row, "
                "give --no-header (-H); its first row is read as column names here"))
        return header, found, len(raw)

    def _no_header_names(self, rows: list[list[str]]) -> tuple[list[str], list[dict[str, Any]], int]:
        """(names, issues, cells per row) without a header: `columns`, else column_1..N for the
        most common number of cells of the sample's rows; with `positional`, `columns` name the
        first N only."""
        counts = Counter(len(r) for r in rows)
        width = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if rows else len(self.columns or []) or 1
        if self.columns and not self.positional:
            width = len(self.columns)
            names = list(self.columns)
        else:
            if len(rows) >= TRAIL_ROWS and width > 1 and all(len(r) == width and r[-1] == "" for r in rows):
                width -= 1  # a trailing delimiter (said by the caller)
            given = (self.columns or [])[:width]
            names = given + [f"column_{i}" for i in range(len(given) + 1, width + 1)]
        header, found = dedupe_header(names, None)
        return header, found, width

    def _to_batch(self, records: pl.DataFrame, done: int) -> Batch:
        width = len(self._names)
        n = pl.col("fields").list.len()
        if self.info.trailing:  # the empty cell after a trailing delimiter is no cell
            records = records.with_columns(fields=pl.when((n == width + 1) & (pl.col("fields").list.last() == ""))
                                           .then(pl.col("fields").list.head(width)).otherwise(pl.col("fields")))
        blank = pl.col("fields").list.eval(pl.element().str.strip_chars() == "").list.all()
        d = self.info.dialect
        if not d.escapechar and records.height:
            # only a line of whitespace, delimiters and quotes can hold nothing but blank cells:
            # check the cells of those lines alone
            chars = "".join(f"\\x{{{ord(c):X}}}" for c in d.delimiter + (d.quotechar or ""))
            maybe = records[RAW].str.contains(f"^[\\s{chars}]*$").fill_null(True).arg_true()
            flags = pl.repeat(False, records.height, dtype=pl.Boolean, eager=True)
            if len(maybe):
                flags = flags.scatter(maybe, records[maybe].select(blank.fill_null(False)).to_series())
            blank = pl.lit(flags)
        records = records.with_columns(
            code=pl.when(pl.col("fields").is_null()).then(pl.lit("row.unterminated_quote"))
            .when(blank).then(pl.lit("row.blank"))
            .when(n < width).then(pl.lit("row.missing_cells"))
            .when(n > width).then(pl.lit("row.extra_cells"))
        )
        good = records.filter(pl.col("code").is_null())
        rows = good.select(
            LINE, *[pl.col("fields").list.get(i).alias(name) for i, name in enumerate(self._names)]
        )
        bad = records.filter(pl.col("code").is_not_null()).select(
            LINE, RAW, "code",
            message=pl.when(pl.col("code") == "row.blank").then(pl.lit("the row is blank"))
            .when(pl.col("code") == "row.unterminated_quote")
            .then(pl.lit("a quoted cell opened on this line is never closed"))
            .otherwise(pl.format("the row has {} cells but the header has " + str(width), n)),
        )
        batch = Batch(rows, bad.cast(BAD_SCHEMA), done, self._stray_quotes(good))
        return self._rerun(batch) if self.info.rerun else batch

    # -- a rejects file given back -----------------------------------------------------------
    def _rerun(self, batch: Batch) -> Batch:
        """A rejects file's batch as the original file's: the data columns only, a row whose
        cells are all empty read from its `_raw` text (in the original dialect), and the
        original line numbers from `_line` when they run in order."""
        header, (line_col, _, raw_col) = self.info.header, (f"\x00{c}" for c in REJECTS)
        rows = batch.rows
        empty = pl.all_horizontal([pl.col(h).fill_null("") == "" for h in header]) if header else pl.lit(True)
        use_raw = rows.select(empty & (pl.col(raw_col).fill_null("") != "")).to_series()
        from_raw = rows.filter(use_raw)
        fixed_rows: list[tuple[Any, ...]] = []
        still_bad: list[dict[str, Any]] = []
        if from_raw.height:
            dialect = self._original_dialect(from_raw[raw_col].to_list())
            for line, orig, raw in from_raw.select(LINE, line_col, raw_col).iter_rows():
                cells, code = _split_raw(raw, dialect)
                if code is None and len(cells) == len(header):
                    fixed_rows.append((line, orig, *cells))
                    continue
                if code is None:
                    code = "row.missing_cells" if len(cells) < len(header) else "row.extra_cells"
                    message = f"the row has {len(cells)} cells but the header has {len(header)}"
                else:
                    message = "a quoted cell opened on this line is never closed"
                still_bad.append({LINE: line, line_col: orig, RAW: raw, "code": code, "message": message})
        kept = rows.filter(~use_raw).select(LINE, line_col, *header)
        if fixed_rows:
            kept = pl.concat([kept, pl.DataFrame(fixed_rows, schema=kept.schema, orient="row")]).sort(LINE)
        redone = pl.DataFrame(still_bad, schema={LINE: pl.Int64, line_col: pl.String, **BAD_SCHEMA})
        # the original lines: `_line` of every row, in increasing order (else this file's lines)
        lines = pl.concat([kept.select(LINE, line_col), redone.select(LINE, line_col)]).sort(LINE)
        orig = lines[line_col].str.strip_chars().cast(pl.Int64, strict=False)
        usable = (batch.bad.height == 0 and orig.null_count() == 0
                  and (orig.len() == 0 or (int(orig[0]) > self._last_line and bool((orig.diff().drop_nulls() > 0).all()))))
        warnings = [batch.warnings] if batch.warnings is not None else []
        bad = pl.concat([batch.bad, redone.select(list(BAD_SCHEMA))]).sort(LINE)
        kept = kept.drop(line_col)
        if usable and orig.len():
            self._last_line = int(orig[-1])
            mapping = pl.DataFrame({LINE: lines[LINE], "_orig": orig})
            def renumber(frame: pl.DataFrame, col: str = LINE) -> pl.DataFrame:
                return frame.join(mapping.rename({LINE: col}), on=col, how="left").with_columns(
                    pl.col("_orig").alias(col)).drop("_orig").select(frame.columns)
            kept, bad = renumber(kept), renumber(bad)
            warnings = [renumber(w, "line") for w in warnings]
        elif not usable and not self._renumbered:
            self._renumbered = True
            warnings.append(issues_at(pl.Series([None], dtype=pl.Int64), None, None, "rerun.renumbered", "warning",
                                      "the _line column of this rejects file is not in increasing order "
                                      "(or not numbers): lines here are the lines of this file"))
        return Batch(kept, bad, batch.bytes_done, pl.concat(warnings) if warnings else None)

    def _original_dialect(self, raws: list[str]) -> Dialect:
        """The dialect of the file the `_raw` texts came from: the delimiter that splits most of
        them into the header's cells (they were fixed), else the one most of them hold."""
        if self._raw_dialect is None:
            width = len(self.info.header)

            def fits(d: str) -> tuple[int, int]:
                splits = [_split_raw(r, Dialect(d)) for r in raws]
                return sum(c is None and len(cells) == width for cells, c in splits), sum(d in r for r in raws)

            best = max(DELIMITERS, key=lambda d: (*fits(d), -DELIMITERS.index(d)))
            self._raw_dialect = Dialect(best if any(fits(best)) else ",")
        return self._raw_dialect

    def _stray_quotes(self, good: pl.DataFrame) -> pl.DataFrame | None:
        """Warnings for rows read with an unpaired quote character in them (`"3" "`, `5'11"`)."""
        q = self.info.dialect.quotechar
        if not q or self.info.dialect.escapechar or good.height == 0:
            return None
        stray = good.filter(pl.col(RAW).str.count_matches(q, literal=True) % 2 == 1)
        if stray.height == 0:
            return None
        return issues_at(LINE, None, pl.col(RAW).str.slice(0, 200), "row.stray_quote", "warning",
                         f"a {q} in this row has no partner; the row was read as shown: check its cells", frame=stray)

    def batches(self) -> Iterator[Batch]:
        """Yield every batch of rows once."""
        if self._frame is not None:
            frame = self._frame
            cols = [pl.col(c).cast(pl.String).alias(h) for c, h in zip(frame.columns, self.info.header)]
            rows = frame.select(cols).with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))
            yield Batch(rows, _empty_bad(), 0)
            return
        if self._first is not None:
            yield self._first
            self._first = None
        yield from self._batches
