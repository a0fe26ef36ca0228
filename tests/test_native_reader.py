"""Polars' own reader (regular chunks) and the line path (everything else) read the same rows."""
from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csvprep.errors import CsvprepError
from csvprep.reader import CsvReader
from test_properties import SETTINGS, Table, tables


def read_all(data: bytes, native: bool, chunk: int, delimiter: str | None = None):
    """Everything a reader yields, batches joined, or the error it raised."""
    try:
        reader = CsvReader(data, delimiter=delimiter, chunk_bytes=chunk, native=native)
        batches = list(reader.batches())
    except CsvprepError as exc:
        return type(exc).__name__, str(exc)
    warnings = [b.warnings for b in batches if b.warnings is not None]
    return (reader.info.header, reader.info.issues,
            pl.concat([b.rows for b in batches]).rows(),
            pl.concat([b.bad for b in batches]).rows(),
            pl.concat(warnings).rows() if warnings else [])


def assert_same(data: bytes, chunk: int, delimiter: str | None = None) -> None:
    """Polars' reader and the line path agree; so do UTF-8 kept as bytes and decoded in chunks."""
    native = read_all(data, True, chunk, delimiter)
    assert native == read_all(data, False, chunk, delimiter)
    CsvReader.utf8_bytes = False
    try:
        assert native == read_all(data, True, chunk, delimiter)
        assert native == read_all(data, False, chunk, delimiter)
    finally:
        CsvReader.utf8_bytes = True


@SETTINGS
@given(tables(), st.integers(8, 400))
def test_native_and_line_paths_agree_on_written_tables(table: Table, chunk: int) -> None:
    assert_same(table.data, chunk, table.delimiter)


# Lines made of quote characters, delimiters, blanks and text in any order: stray quotes,
# quotes inside cells, doubled quotes, quoted line breaks, lone CRs, blank and ragged rows.
TOKEN = st.sampled_from(['"', '""', ",", ",", "a", "b c", " ", "'", "\r", "\r\n", "\n", "\n", "é", ";", "漢", "\ufeff"])
BODY = st.lists(TOKEN, max_size=60).map("".join)


@SETTINGS
@given(BODY, st.integers(4, 64), st.sampled_from(["a,b,c\n", "x\n", "a;b\r\n"]))
def test_native_and_line_paths_agree_on_odd_quoting(body: str, chunk: int, header: str) -> None:
    data = (header + "1,2,3\n" + body + "\n" + body).encode()
    assert_same(data, chunk)
    assert_same(data[:-1] + b"\xff" + data[-1:], chunk)  # a byte that is not UTF-8: the same error


# Rows of well-formed cells (quoted or not, blank or not, multi-byte), mostly with the header's
# cell count: chunks polars reads next to chunks with a short, long or blank row.
CELL = st.sampled_from(["x", "", " ", '"a,b"', '""', '" "', '"\t"', "é", "漢字", '"q ""r"""', "\u3000",
                       '"two\nlines"', '"""\n"""', '"a\n\nb, ""c"""', '"\n"', '""""'])
ROW = st.integers(2, 4).flatmap(lambda n: st.lists(CELL, min_size=n, max_size=n)).map(",".join)
REGULAR = st.lists(CELL, min_size=3, max_size=3).map(",".join)


@SETTINGS
@given(st.lists(st.one_of(REGULAR, REGULAR, REGULAR, ROW), max_size=80), st.integers(16, 300),
       st.sampled_from(["\n", "\r\n"]))
def test_native_and_line_paths_agree_on_mostly_regular_rows(rows: list[str], chunk: int, eol: str) -> None:
    data = eol.join(["a,b,c", *rows, ""]).encode()
    assert_same(data, chunk)


@pytest.mark.parametrize("line", [
    '1,"2,2",3', '1,"",3', '"1"x"y",2,3', ' "1",2,3', 'a"",2,3', '"a""b",2,3', '1,2,"3" ',
    '1,2', '1,2,3,4', ',,', ' , ,', '1,"2\n2",3', '1,2,3\r4,5,6', '1,\x002,3', '"1,2,3',
])
def test_odd_lines_in_a_later_chunk(line: str) -> None:
    rows = "".join(f"{i},b{i},c{i}\n" for i in range(40))
    data = ("a,b,c\n" + rows + line + "\n" + rows).encode()
    for chunk in (64, 200, 1 << 20):
        assert_same(data, chunk)


# Lines the native path must leave to the line path, among lines it reads: short lines (polars
# pads them with empty cells), long ones, blank lines, quotes away from a cell's edge, CRs, NULs.
@pytest.mark.parametrize("line", [
    "", " ", "\t", ",", ",,", ", ,\t", '""', '"",,""', '" ",", ",""', '"', '""""', '"""",,',
    "1,2", '"1,2",3', '1,"2,3"', '"1","2"', "1,", '1,""', ",2", ",,,", "1,2,3,", '1,2,"3,4",5',
    '1,"2"3,4', '1,2"3,4', '1,2,3"', '"1"",2,3', '1, "2",3', '1,"2" ,3', "1,2\r3", "1,2,3\r", "\r",
    '1,"2\r",3', "\ufeff,,", "1,2,3\x85", "\u3000,\u3000,\u3000", "\u2003,\x85,\xa0", "\u2003x,2,3",
    "\x0b,\x0c,\x1c", "\x1c,\x1d,\x1e", '"é,漢",字', 'é,"漢,字",', '"é","漢",""', "!,,",
    "\x00", "1,2,3\x00", '1,"\x00",3',
])
def test_short_blank_and_odd_lines_among_regular_ones(line: str) -> None:
    rows = "".join(f'{i},"b, {i}",\r\n' if i % 3 else f' ,b{i},"c{i}"\r\n' for i in range(60))
    for eol in ("\n", "\r\n"):
        data = ("a,b,c" + eol + rows.replace("\r\n", eol) + line + eol + rows.replace("\r\n", eol)).encode()
        for chunk in (64, 300, 1 << 20):
            assert_same(data, chunk)
        reader = CsvReader(data, chunk_bytes=300)
        list(reader.batches())
        # the regular chunks: blank first cells, empty last cells (a lone quote opens a record that
        # the native path leaves to the next chunk, which then goes line by line)
        assert reader.native_rows > 50


def test_a_one_column_table_with_blank_lines() -> None:
    rows = "".join(f"v{i}\n" if i % 7 else "\n" if i % 2 else ' \n' for i in range(200))
    data = ("name\n" + "".join(f"x{i}\n" for i in range(100)) + rows).encode()
    for chunk in (16, 64, 300):
        assert_same(data, chunk)
    reader = CsvReader(data, chunk_bytes=64)
    list(reader.batches())
    assert reader.native_rows > 50  # the x lines; the chunks with blank lines go line by line


def test_lines_longer_than_a_chunk() -> None:
    """A chunk with no line break in it: the lines read end in the carried part."""
    rows = "".join(f'{i},"{"b, " * (i % 50)}",{"c" * (i % 90)}\n' for i in range(120))
    data = ("a,b,c\n" + rows).encode()
    for chunk in (16, 64, 100):
        assert_same(data, chunk)


def test_regular_chunks_are_read_by_polars() -> None:
    rows = "".join(f'{i},"b, {i}",c{i}\r\n' for i in range(20000))
    reader = CsvReader(("a,b,c\r\n" + rows).encode(), chunk_bytes=1 << 16)
    got = pl.concat([b.rows for b in reader.batches()])
    assert got.height == 20000 and got["b"][5] == "b, 5" and got["_line"][5] == 7
    assert reader.native_rows > 15000  # all but the rows in the first 64 KiB


def test_a_quote_left_open_on_the_last_line_reads_the_same_whatever_the_chunks() -> None:
    """Found by hypothesis: UTF-8 kept as bytes once ended its last chunk differently from the
    decoded path (the final flag came with the data), so the last line depended on chunk size."""
    data = ('a;b\r\n1,2,3\n"\r,";"\n"\r,";"').encode()
    for chunk in (4, 7, 13, 1 << 20):
        assert_same(data, chunk)


def test_doubled_quotes_and_quoted_line_breaks_are_read_by_polars() -> None:
    """RFC 4180's doubled quote inside a quoted cell and a line break inside a quoted cell (what
    spreadsheets write) stay on the native path, with each record's first line as its line (row 7
    above rows 12 and 14 has two lines)."""
    rows = "".join(f'{i},"Initech ""West"" {i}",c{i}\n' if i % 12 == 0 else
                   f'{i},"two\nlines {i}",c{i}\n' if i % 7 == 0 else f"{i},b{i},c{i}\n" for i in range(20000))
    data = ("a,b,c\n" + rows).encode()
    reader = CsvReader(data, chunk_bytes=1 << 16)
    got = pl.concat([b.rows for b in reader.batches()])
    assert reader.native_rows > 15000
    assert got.height == 20000
    assert got.filter(pl.col("a") == "12").row(0) == (2 + 12 + 1, "12", 'Initech "West" 12', "c12")
    assert got.filter(pl.col("a") == "14").row(0) == (2 + 14 + 1, "14", "two\nlines 14", "c14")
    for chunk in (300, 1 << 12, 1 << 16):
        assert_same(data[:40000], chunk)


@pytest.mark.parametrize("cell", [
    '"a\nb"', '"a\n\nb"', '"a""\n""b"', '"\n,\n"', '"a\r\nb"', '"a\nb" ', ' "a\nb"', '"a\nb"x', '"a\n"b"',
    '"a\nb', '"""\n', '"a\nb""', '"\n"""\n""', '"a,\n""b"",c"',
])
def test_quoted_line_breaks_among_regular_rows(cell: str) -> None:
    rows = "".join(f"{i},b{i},c{i}\n" for i in range(60))
    for where in (f"1,{cell},3", f"{cell},2,3", f"1,2,{cell}", f"1,{cell}", f"1,2,3,{cell}"):
        data = ("a,b,c\n" + rows + where + "\n" + rows + where + "\n" + rows).encode()
        for chunk in (64, 300, 1 << 20):
            assert_same(data, chunk)
