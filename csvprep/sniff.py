"""Encoding and dialect detection from a bounded sample of the input."""
from __future__ import annotations

import codecs
import csv
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass

import chardet

from .errors import EncodingError, InputError

SAMPLE_BYTES = 1 << 20
# The csv module refuses cells over 128 KiB by default; a cell may be as large as the file.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
DIALECT_SAMPLE_LINES = 200
DELIMITERS = (",", "\t", ";", "|", "^", "`", ":")
QUOTES = ('"', "'", "|")
ESCAPE_MARGIN = 1.1  # a backslash-escape dialect must score this much better than the plain one
WEAK_MARGIN = 0.9  # a runner-up delimiter scoring this share of the best makes the guess weak
CONFIDENT = 0.5  # an encoding guessed with less confidence is said in the report (encoding.guessed)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
)
# Single-byte encodings chardet confuses with each other on short Western text.
_WESTERN = {
    "windows-1250", "windows-1252", "iso-8859-1", "iso8859-1", "iso-8859-2", "iso8859-2",
    "iso8859-3", "iso-8859-3", "iso8859-15", "iso-8859-15", "iso8859-9", "iso-8859-9",
    "windows-1254", "mac-roman", "macroman", "cp1250", "cp1252", "latin-1", "ascii",
}


@dataclass(frozen=True)
class Encoding:
    """The encoding a file is read with, how it was found and the BOM to skip."""

    name: str
    source: str  # "bom", "utf-8", "chardet", "given"
    confidence: float | None = None
    bom: int = 0


@dataclass(frozen=True)
class Dialect:
    """How the fields of a record are separated and quoted."""

    delimiter: str
    quotechar: str | None = '"'
    escapechar: str | None = None


@dataclass(frozen=True)
class DialectGuess:
    """A detected dialect, the delimiters it was chosen among (best first, with their scores)
    and why the choice is weak (None when it is not)."""

    dialect: Dialect
    candidates: tuple[tuple[str, float], ...] = ()
    weak: str | None = None


def check_binary(sample: bytes) -> None:
    """Raise InputError when the sample is clearly not text."""
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise InputError(f"this looks like {what}, not a CSV file: export it as CSV first")
    if not sample:
        return
    controls = sum(sample.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    ratio = controls / len(sample)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    if ratio > 0.3 or (ratio > 0.05 and not utf8):
        raise InputError("this looks like a binary file, not CSV text: check the file name")


def _utf16_without_bom(sample: bytes) -> str | None:
    """Recognise BOM-less UTF-16 by its pattern of zero bytes."""
    n = min(len(sample), 4096) // 2 * 2
    if n < 4:
        return None
    even, odd = sample[0:n:2], sample[1:n:2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.05:
        return "utf-16-le"
    if zeros_even > 0.3 and zeros_odd < 0.05:
        return "utf-16-be"
    return None


def detect_encoding(sample: bytes, given: str | None = None) -> Encoding:
    """BOM first, then strict UTF-8, then chardet on the sample; `given` overrides."""
    bom = 0
    for mark, name in _BOMS:
        if sample.startswith(mark):
            bom = len(mark)
            if given is None:
                return Encoding(name, "bom", 1.0, bom)
            break
    if given is not None:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise EncodingError(f"unknown encoding {given!r}: try utf-8, latin-1, cp1252 or utf-16")
        if bom and not name.startswith("utf"):
            bom = 0
        if name in ("utf-16", "utf-32") and not bom:  # these codecs need a BOM to know the byte order
            raise EncodingError(f"the file has no byte-order mark, so {given!r} cannot tell the byte order: "
                                f"use --encoding {name}-le or {name}-be")
        return Encoding(name, "given", None, bom)
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return Encoding(utf16, "utf-16 pattern", 0.9)
    check_binary(sample)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return Encoding("utf-8", "utf-8", 1.0)
    except UnicodeDecodeError:
        pass
    guess = chardet.detect(sample, prefer_superset=True)
    name = (guess.get("encoding") or "cp1252").lower()
    confidence = float(guess.get("confidence") or 0.0)
    if confidence < CONFIDENT and (name in _WESTERN or _looks_western(sample)):
        name = "cp1252"
    try:
        name = codecs.lookup(name).name
        sample.decode(name)
    except (LookupError, UnicodeDecodeError):
        name = "latin-1" if name == "cp1252" else "cp1252"
        try:
            sample.decode(name)
        except UnicodeDecodeError:
            name = "latin-1"
    return Encoding(name, "chardet", round(confidence, 3))


def _looks_western(sample: bytes) -> bool:
    """Whether the non-ASCII bytes of a single-byte text read as accented Latin letters inside
    ASCII words (Béjaïa, Zürich), as in cp1252; Greek or Cyrillic words are runs of such bytes."""
    high = re.compile(rb"[\x80-\xff]")
    found = [m.start() for m in high.finditer(sample[:65536])]
    if not found:
        return False
    ascii_letter = re.compile(rb"[A-Za-z]")
    near = sum(1 for i in found if (i and ascii_letter.match(sample, i - 1)) or ascii_letter.match(sample, i + 1))
    return near >= 0.6 * len(found)


_TYPE_PATTERNS = re.compile(
    r"""^(?:
      |[-+]?\d[\d,. ]*%?                               # numbers, money, percentages
      |[$€£]\s?[-+]?\d[\d,.]*
      |\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?
      |\d{1,2}:\d{2}(:\d{2})?
      |[^@\s]+@[^@\s]+\.[^@\s]+
      |(https?://)?(www\.)?[\w-]+(\.[\w-]+)+(/\S*)?
      |\(?\+?\d[\d\s().-]{5,}\d
      |[\w\s.,'&()/#-]+                                 # words and phrases
      |(true|false|yes|no|NA|N/A|null|NULL|None)
    )$""",
    re.VERBOSE | re.UNICODE,
)


def _parse_sample(lines: list[str], dialect: Dialect) -> list[list[str]]:
    kwargs: dict = {"delimiter": dialect.delimiter, "strict": False}
    if dialect.quotechar:
        kwargs["quotechar"] = dialect.quotechar
    else:
        kwargs["quoting"] = csv.QUOTE_NONE
    if dialect.escapechar:
        kwargs["escapechar"] = dialect.escapechar
    try:
        return [row for row in csv.reader(io.StringIO("\n".join(lines)), **kwargs) if row]
    except csv.Error:
        return []


def score_dialect(lines: list[str], dialect: Dialect) -> float:
    """CleverCSV-style consistency: row-length pattern score times cell type score."""
    rows = _parse_sample(lines, dialect)
    if not rows:
        return 0.0
    lengths = Counter(len(row) for row in rows)
    pattern = sum(n * (k - 1) / k for k, n in lengths.items()) / len(lengths)
    cells = [cell for row in rows for cell in row]
    typed = sum(1 for cell in cells if _TYPE_PATTERNS.match(cell.strip()))
    type_score = typed / len(cells) if cells else 0.0
    return pattern * max(type_score, 1e-3)


def _consistency(lines: list[str], dialect: Dialect) -> float:
    """Share of records with the most common number of cells."""
    rows = _parse_sample(lines, dialect)
    if not rows:
        return 0.0
    return max(Counter(len(row) for row in rows).values()) / len(rows)


def _splits_most_rows(lines: list[str], delimiter: str) -> bool:
    """True when more than half the records (read with '"' quotes) have two or more cells."""
    rows = _parse_sample(lines, Dialect(delimiter))
    return 2 * sum(len(r) > 1 for r in rows) > len(rows)


def _header_rule(lines: list[str], delimiter: str) -> bool:
    """Whether `delimiter` may be the file's delimiter although the first line (the header, or
    a title above it) does not split on it: only when the evidence is overwhelming, i.e. the
    lines after it split alike into three or more cells (a table under a title row)."""
    rows = _parse_sample(lines, Dialect(delimiter))
    if not rows or len(rows[0]) > 1:
        return True
    rest = rows[1:]
    if not rest:
        return False
    width, n = Counter(len(r) for r in rest).most_common(1)[0]
    return width >= 3 and n >= 0.9 * len(rest)


def detect_dialect(text: str, delimiter: str | None = None) -> Dialect:
    """Pick the delimiter and quote character that make the sample most consistent."""
    return guess_dialect(text, delimiter).dialect


def guess_dialect(text: str, delimiter: str | None = None) -> DialectGuess:
    """`detect_dialect` with the delimiters it chose among and whether the choice is weak: a
    runner-up scoring nearly as well, or a delimiter set aside because the header lacks it."""
    lines = [ln for ln in text.splitlines()[:DIALECT_SAMPLE_LINES] if ln.strip()]
    dropped: list[str] = []
    if delimiter is not None:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise InputError(f"--delimiter must be one character, got {delimiter!r}")
        delims: tuple[str, ...] = (delimiter,)
    else:
        counts = {d: sum(ln.count(d) for ln in lines) for d in DELIMITERS}
        # A delimiter separates the cells of most lines; one found in only a few lines (outside
        # quotes) is text in a single-column file, e.g. "me@[IPv6:::1]" in a list of addresses.
        delims = tuple(d for d in DELIMITERS if counts[d] and _splits_most_rows(lines, d))
        # nor is one the header line lacks (`https://a.com:8080` under `Website`), unless the rows
        # under it leave no doubt
        dropped = [d for d in delims if not _header_rule(lines, d)]
        delims = tuple(d for d in delims if d not in dropped)
        if not delims:  # one column: any delimiter that does not occur, else the rarest
            delims = (min(DELIMITERS, key=lambda d: (counts[d], DELIMITERS.index(d))),)
    best, best_score, scores = _best_dialect(lines, delims)
    # set aside, a delimiter matters only when it would have won
    lost = _best_dialect(lines, tuple(dropped))[2] if dropped else {}
    beaten = [d for d, v in lost.items() if v > best_score]
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    weak = None
    if beaten:
        weak = ("the first line has no " + " or ".join(repr(d) for d in beaten)
                + ", so it was not taken as the delimiter")
    elif delimiter is None and len(ranked) > 1 and ranked[1][1] >= WEAK_MARGIN * ranked[0][1] > 0:
        weak = f"{ranked[1][0]!r} fits the sample nearly as well"
    ranked += sorted(((d, lost[d]) for d in beaten), key=lambda kv: -kv[1])
    return DialectGuess(best, tuple((d, round(v, 3)) for d, v in ranked), weak)


def _best_dialect(lines: list[str], delims: tuple[str, ...]) -> tuple[Dialect, float, dict[str, float]]:
    """The best-scoring dialect over `delims`, its score and the best score of each delimiter."""
    sample_text = "\n".join(lines)
    best, best_score = Dialect(delims[0] if delims else ","), -1.0
    scores: dict[str, float] = {}
    for d in delims:
        # '"' is always a candidate (and wins ties); another quote character only when some
        # field is wholly wrapped in it, e.g. |a, b| -- a lone '|' or "'" in a cell is not a quote.
        quotes: list[str | None] = ['"'] + [q for q in QUOTES if q not in (d, '"') and re.search(
            f"(?:^|{re.escape(d)}) *{re.escape(q)}(?:[^{re.escape(q)}\n]|{re.escape(q * 2)})+{re.escape(q)} *(?:{re.escape(d)}|$)",
            sample_text, re.MULTILINE)]
        # A backslash escape is tried only when a backslash stands before the delimiter or a quote
        # inside a field (imdb.csv: Seltsam\\, oder; JSON: {\\"a\\": 1}), and chosen only when it
        # makes more rows alike and scores clearly better: a doubled-quote file may hold backslashes too.
        specials = "".join(re.escape(c) for c in {d, *(q for q in quotes if q)})
        escaped = re.search(f"\\\\(?:[{specials}])(?! *(?:{re.escape(d)}|$))(?<!\\\\\"(?=\"))",
                            sample_text, re.MULTILINE) is not None
        default = 0.0
        for q in quotes:
            plain = Dialect(d, q, None)
            score = score_dialect(lines, plain)
            if q == '"':
                default = _consistency(lines, plain)
            elif _consistency(lines, plain) <= default + 1e-9:  # another quote must make rows more alike
                continue
            scores[d] = max(scores.get(d, 0.0), score)
            if score > best_score + 1e-9:
                best, best_score = plain, score
            if escaped:
                with_escape = Dialect(d, q, "\\")
                esc_score = score_dialect(lines, with_escape)
                if (esc_score > max(best_score, score * ESCAPE_MARGIN) + 1e-9
                        and _consistency(lines, with_escape) > _consistency(lines, plain) + 1e-9):
                    best, best_score = with_escape, esc_score
                    scores[d] = max(scores[d], esc_score)
    return best, best_score, scores
