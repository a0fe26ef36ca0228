"""Reading: encodings, dialects, and structural problems reported on the right line."""
from __future__ import annotations

import codecs

import polars as pl
import pytest

import csvprep
from csvprep.errors import InputError
from csvprep.reader import CsvReader

from conftest import write


def rows_and_bad(source, **kw):
    r = CsvReader(source, **kw)
    batches = list(r.batches())
    rows = pl.concat([b.rows for b in batches])
    bad = pl.concat([b.bad for b in batches])
    return r, rows, bad


def test_seed_sample_is_tab_separated_and_read_without_options(sample_contact):
    r, rows, bad = rows_and_bad(sample_contact)
    assert r.info.dialect.delimiter == "\t"
    assert r.info.header[0] == "C_EmailAddress" and len(r.info.header) == 7
    assert rows.height == 10 and bad.height == 0
    assert rows["_line"].to_list() == list(range(2, 12))
    assert rows.filter(pl.col("_line") == 4)["C_BusPhone"].item() == "444) 444-1234"


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiters_detected(tmp_path, delimiter):
    text = delimiter.join(["name", "email", "amount"]) + "\n"
    text += "\n".join(delimiter.join([f"n{i}", f"u{i}@x.com", f"{i}.5"]) for i in range(5)) + "\n"
    r, rows, _ = rows_and_bad(write(tmp_path, "d.csv", text))
    assert r.info.dialect.delimiter == delimiter
    assert rows.columns == ["_line", "name", "email", "amount"]
    assert rows["email"].to_list()[0] == "u0@x.com"


def test_delimiter_override(tmp_path):
    p = write(tmp_path, "d.csv", "a;b\n1;2\n")
    r, rows, _ = rows_and_bad(p, delimiter=",")
    assert r.info.header == ["a;b"]
    assert rows["a;b"].to_list() == ["1;2"]


def test_short_long_and_multiline_rows_reported_on_their_physical_lines(tmp_path):
    data = 'a,b,c\n1,"two\nlines",3\n4,5\n6,7,8,9\n10,11,12\n'
    _, rows, bad = rows_and_bad(write(tmp_path, "r.csv", data))
    assert rows["_line"].to_list() == [2, 6]
    assert rows["b"].to_list() == ["two\nlines", "11"]
    assert bad.select("_line", "code").rows() == [(4, "row.missing_cells"), (5, "row.extra_cells")]
    assert bad["_raw"].to_list() == ["4,5", "6,7,8,9"]  # kept, never padded or cut


def test_blank_rows_and_unterminated_quote(tmp_path):
    data = 'a,b\n1,2\n\n3,"open\n4,5\n'
    _, rows, bad = rows_and_bad(write(tmp_path, "u.csv", data))
    assert rows["_line"].to_list() == [2]
    assert bad.select("_line", "code").rows() == [(3, "row.blank"), (4, "row.unterminated_quote")]
    assert bad["_raw"][1] == '3,"open\n4,5'


def test_line_numbers_survive_chunk_boundaries(tmp_path):
    lines = ["id,text"] + [f'{i},"multi\nline {i}"' if i % 7 == 0 else f"{i},plain {i}" for i in range(1, 400)]
    p = write(tmp_path, "big.csv", "\n".join(lines) + "\n")
    _, small_rows, _ = rows_and_bad(p, chunk_bytes=97)
    _, big_rows, _ = rows_and_bad(p)
    assert small_rows.equals(big_rows)
    assert small_rows.height == 399
    # line of id 14 = 1 header + 13 rows before it + one extra line for each multi-line row before it (7)
    assert small_rows.filter(pl.col("id") == "14")["_line"].item() == 1 + 13 + 1 + 1


def test_duplicate_and_blank_headers_are_renamed_with_issues(tmp_path):
    r, rows, _ = rows_and_bad(write(tmp_path, "h.csv", "id,,id\n1,2,3\n"))
    assert r.info.header == ["id", "column_2", "id_3"]
    assert [i["code"] for i in r.info.issues] == ["header.blank", "header.duplicate"]


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-16-le", b""), ("utf-8", codecs.BOM_UTF8)])
def test_utf16_and_bom_files(tmp_path, encoding, bom):
    text = "name,city\nJosé,Zürich\nŁukasz,Kraków\n"
    p = write(tmp_path, "e.csv", bom + text.encode(encoding))
    r, rows, _ = rows_and_bad(p)
    assert r.info.encoding.name.replace("_", "-").startswith(encoding[:6])
    assert r.info.header == ["name", "city"]
    assert rows["city"].to_list() == ["Zürich", "Kraków"]


def test_latin1_file_is_detected(tmp_path):
    text = "name,city\n" + "\n".join(["José,Málaga", "Françoise,Besançon", "Jürgen,Köln", "Ærø,Søby"] * 5) + "\n"
    r, rows, _ = rows_and_bad(write(tmp_path, "l.csv", text.encode("latin-1")))
    assert r.info.encoding.source == "chardet"
    assert rows["city"][0] == "Málaga" and rows["name"][2] == "Jürgen"


def test_encoding_override(tmp_path):
    p = write(tmp_path, "l.csv", "a,b\n\xa9,x\n".encode("latin-1"))
    _, rows, _ = rows_and_bad(p, encoding="latin-1")
    assert rows["a"].to_list() == ["©"]


def test_header_only_file_has_no_rows(tmp_path):
    _, rows, bad = rows_and_bad(write(tmp_path, "h.csv", "a,b,c\n"))
    assert rows.height == 0 and bad.height == 0


@pytest.mark.parametrize("content,message", [
    (b"", "empty"), (b"\n\n  \n", "empty"), (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
    (bytes(range(256)) * 20, "binary"),
])
def test_unreadable_inputs_raise_input_error(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        CsvReader(write(tmp_path, "x.csv", content))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        CsvReader(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="directory"):
        CsvReader(tmp_path)


def test_invalid_utf8_after_the_sample_names_its_line(tmp_path):
    good = "a,b\n" + "x,y\n" * 300_000  # > 1 MB sample
    p = write(tmp_path, "bad.csv", good.encode() + b"caf\xe9,1\n")
    with pytest.raises(csvprep.EncodingError, match=r"line 300002"):
        list(CsvReader(p).batches())


def test_dataframe_and_file_object_sources(sample_contact):
    df = pl.DataFrame({"x": [1, 2], "y": ["a", None]})
    _, rows, _ = rows_and_bad(df)
    assert rows["_line"].to_list() == [2, 3] and rows["x"].to_list() == ["1", "2"]
    with open(sample_contact, "rb") as fh:
        _, rows, _ = rows_and_bad(fh)
    assert rows.height == 10


def test_a_header_whose_quote_never_closes_is_named_not_called_blank() -> None:
    """A header record with a quote that never closes (here with ':' as the delimiter) is reported
    as such, with its line and what to try; it is not 'only blank lines'. (':' is no longer
    guessed here: the first line has none.)"""
    with pytest.raises(InputError, match=r"header row \(line 3\) has a quote that is never closed with the "
                                         r"delimiter ':'.*--delimiter"):
        csvprep.check(b'0\n::,"\n0:"\n""\n', delimiter=":")
    report = csvprep.check(b'0\n::,"\n0:"\n""\n', delimiter=",")  # the delimiter given: it reads
    assert report.read == 2 and report.read == report.clean + report.rejected


@pytest.mark.parametrize("tail, raw", [(b'', ',";"'), (b'\n3;4\n', ',";"\n3;4')])
def test_an_even_count_of_quotes_can_leave_one_open(tail: bytes, raw: str) -> None:
    """`,";"` with ';': a quote inside the first cell, then one that opens the second and never
    closes. The count of quotes is even, but the record runs on (as the csv module reads it) and
    is an unterminated quote, not a row whose `"` silently became an empty cell."""
    report = csvprep.check(b'a;b\n1;2\n,";"' + tail, delimiter=";")
    assert report.as_rows() == [[3, None, "row.unterminated_quote"]]
    assert report.issues["value"].to_list() == [raw]
    assert (report.read, report.clean, report.rejected) == (2, 1, 1)


def test_quotes_inside_cells_read_as_text() -> None:
    """An even count of quotes inside cells (5'11" and 6'2") is text, as before."""
    result = csvprep.clean(b'name,height\nAnn,"5\'11"" and 6\'2"""\nBob,5\'11" and 6\'2"\n')
    assert result.clean["height"].to_list() == ['5\'11" and 6\'2"', '5\'11" and 6\'2"']
    assert result.report.rejected == 0
