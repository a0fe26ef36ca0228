"""Byte ranges of one file that start on record boundaries, found in parallel: any engine's first pass."""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

from .sniff import Dialect, Encoding



@dataclass(frozen=True)
class RangeScan:
    """What one byte range holds, for cutting the file: quotes, line breaks and its first
    line ends after which an even or an odd count of quotes (from the range's start) lies."""

    size: int
    quotes: int
    breaks: int  # line breaks as the reader counts them (CRLF, CR, LF one each)
    starts_lf: bool  # the range starts with LF (after a CR at the end of the range before: one CRLF)
    ends_cr: bool
    even: tuple[int, int] | None  # (offset after the LF, breaks before that offset) where the count is even
    odd: tuple[int, int] | None


@dataclass(frozen=True)
class Span:
    """Bytes [start, end) of a file, starting on a record boundary at line `first_line`."""

    start: int
    end: int
    first_line: int


def breaks(data: bytes) -> int:
    """Line breaks in `data` as the reader counts them: CRLF, CR and LF are one each."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def splittable(encoding: Encoding, dialect: Dialect) -> str | None:
    """None when a file in this encoding and dialect can be cut at a LF byte with an even count
    of quotes before it; else why not (said in the report)."""
    try:
        lf = "\n".encode(encoding.name)
    except (LookupError, UnicodeError):
        lf = b""
    if lf != b"\n" or codecs.lookup(encoding.name).name in ("utf-7",):
        return f"the {encoding.name} encoding has no one-byte line end"
    if dialect.escapechar:
        return f"the {dialect.escapechar!r} escapes make the quoting of a cut unknown"
    if dialect.quotechar and len(dialect.quotechar.encode(encoding.name)) != 1:
        return "the quote character is more than one byte"
    return None


def quote_byte(encoding: Encoding, dialect: Dialect) -> bytes | None:
    """The quote character as the one byte counted by `scan`, or None (no quoting)."""
    return dialect.quotechar.encode(encoding.name) if dialect.quotechar else None


SEARCH_BYTES = 1 << 20  # how far into a range a cut is looked for


def scan(data: bytes, quote: bytes | None, search: int = SEARCH_BYTES) -> RangeScan:
    """The first pass over one range (any range, in parallel). A cut is looked for in the
    first `search` bytes (without one, the range joins the range before it)."""
    found: dict[int, tuple[int, int]] = {}
    pos, parity = 0, 0
    while len(found) < 2 and pos < search:
        lf = data.find(b"\n", pos)
        if lf < 0:
            break
        if quote:
            parity = (parity + data.count(quote, pos, lf)) % 2
        if parity not in found:
            found[parity] = (lf + 1, breaks(data[: lf + 1]))
        pos = lf + 1
        if not quote:
            break  # no quoting: the first LF is a boundary
    return RangeScan(len(data), data.count(quote) if quote else 0, breaks(data), data[:1] == b"\n",
                     data[-1:] == b"\r", found.get(0), found.get(1))


def plan(starts: list[int], scans: list[RangeScan], first_line: int) -> list[Span]:
    """The spans of a file's data scanned in ranges that start at `starts`: the first range
    starts on a record boundary (just after the header) at line `first_line`. Each cut is the
    first LF of a range after which the count of quotes since the data's start is even, and
    knows its line; a range without such a LF joins the range before it."""
    spans: list[Span] = []
    start, line = starts[0], first_line
    quotes, seen = 0, first_line - 1  # quotes and line breaks before the current range
    end = starts[-1] + scans[-1].size
    for k, (at, s) in enumerate(zip(starts, scans)):
        crlf = 1 if k and s.starts_lf and scans[k - 1].ends_cr else 0
        if k:
            cut = s.even if quotes % 2 == 0 else s.odd
            if cut is not None and at + cut[0] < end:
                spans.append(Span(start, at + cut[0], line))
                start, line = at + cut[0], 1 + seen + cut[1] - crlf
        quotes += s.quotes
        seen += s.breaks - crlf
    spans.append(Span(start, end, line))
    return spans


def header_end(head: bytes, text: str, header_line: int, csv_kwargs: dict[str, object]) -> tuple[int, int] | None:
    """(the byte offset in `head` just after the header record, the line after it), from the
    file's first bytes `head` (after the BOM) and their text; None when the header does not
    end in them."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    reader = csv.reader(iter(lines[header_line - 1:-1]), **csv_kwargs)  # type: ignore[arg-type]
    try:
        next(reader)
    except (StopIteration, csv.Error):
        return None
    last = header_line + reader.line_num - 1  # the header's last line
    for n, m in enumerate(re.finditer(rb"\r\n|\r|\n", head), start=1):
        if n == last:
            return (m.end(), last + 1) if m.end() < len(head) or head.endswith(b"\n") else None
    return None
