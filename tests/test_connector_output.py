"""Clean-file output: Bulk API dialects and splitting into parts by records and bytes."""
from __future__ import annotations

import io
import json

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.errors import OutputError
from csvprep.writer import PartedCsvSink, csv_bytes, delimiter_char, row_bytes

from conftest import write


def _contacts(n: int) -> str:
    return "Last Name,Email,Notes\n" + "".join(
        f'Name{i},p{i}@example.com,"says ""hi"", twice\nthen leaves"\n' for i in range(n))


@pytest.mark.parametrize("sep", [",", "|", "\t", ";", "^", "`"])
def test_row_bytes_match_what_polars_writes(sep: str) -> None:
    frame = pl.DataFrame({"a": ["", None, "x,y", 'q"q', "n\nl", " sp", "é|`^;"], "b": list("1234567")})
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, separator=sep, line_terminator="\r\n", quote_style="necessary")
    assert int(row_bytes(frame, sep, "\r\n").sum()) == len(buf.getvalue())


@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_a_lone_end_of_data_marker_is_quoted(terminator: str) -> None:
    """A one-column line `\\.` ends PostgreSQL's COPY unless quoted: it is quoted, and row_bytes
    counts the quotes; beside other columns it is plain text."""
    values = ["\\.", "a", "\\.", "\\.x", None, "\\."]
    one = pl.DataFrame({"note": values})
    data = csv_bytes(one, ",", terminator, header=True)
    t = terminator.encode()
    assert data == t.join([b"note", b'"\\."', b"a", b'"\\."', b"\\.x", b"", b'"\\."']) + t
    assert pl.read_csv(data, infer_schema=False)["note"].to_list() == values
    assert int(row_bytes(one, ",", terminator).sum()) == len(csv_bytes(one, ",", terminator))
    two = one.with_columns(n=pl.lit("1"))
    assert b'"' not in csv_bytes(two, ",", terminator)
    assert int(row_bytes(two, ",", terminator).sum()) == len(csv_bytes(two, ",", terminator))


def test_split_by_rows_each_part_has_header(tmp_path) -> None:
    src = write(tmp_path, "in.csv", _contacts(25))
    report = csvprep.clean_file(src, tmp_path / "out.csv", "Contact", connector="salesforce", max_rows=10)
    parts = report.outputs["parts"]
    assert [p.rsplit("/", 1)[1] for p in parts] == ["out.part-001.csv", "out.part-002.csv", "out.part-003.csv"]
    assert "clean" not in report.outputs and not (tmp_path / "out.csv").exists()
    frames = [pl.read_csv(p, infer_schema=False) for p in parts]
    assert [f.height for f in frames] == [10, 10, 5]
    assert all(f.columns == ["LastName", "Email", "Description"] for f in frames)
    assert pl.concat(frames)["LastName"].to_list() == [f"Name{i}" for i in range(25)]


def test_split_by_bytes_never_splits_a_record(tmp_path) -> None:
    src = write(tmp_path, "in.csv", _contacts(40))
    limit = 500
    report = csvprep.clean_file(src, tmp_path / "out.csv", "Contact", connector="salesforce", max_bytes=limit,
                                chunk_bytes=300)
    parts = report.outputs["parts"]
    sizes = [len(open(p, "rb").read()) for p in parts]
    assert max(sizes) <= limit and len(parts) > 3
    rows = pl.concat([pl.read_csv(p, infer_schema=False) for p in parts])
    # Description is prose: its line break is kept (quoted), so a part boundary must not cut it
    assert rows.height == 40 and rows["Description"][0] == 'says "hi", twice\nthen leaves'


def test_one_part_is_written_as_out(tmp_path) -> None:
    src = write(tmp_path, "in.csv", _contacts(3))
    report = csvprep.clean_file(src, tmp_path / "out.csv", "Contact", connector="salesforce")
    assert report.outputs["clean"] == str(tmp_path / "out.csv")
    assert not list(tmp_path.glob("out.part-*"))


def test_schema_defaults_and_flags_override(tmp_path) -> None:
    s = csvprep.load_schema("contact", "marketing")
    assert s.output.get("max_bytes") == "32MB"
    src = write(tmp_path, "in.csv", _contacts(2))
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(cli, ["clean", str(src), "-c", "salesforce", "-O", "Contact", "-o", str(out),
                                 "--out-delimiter", "PIPE", "--line-ending", "CRLF", "--max-rows", "1",
                                 "--report", str(tmp_path / "r.json"), "-q"])
    assert r.exit_code == 0, r.output
    part = (tmp_path / "out.part-002.csv").read_bytes()
    assert part == b'LastName|Email|Description\r\nName1|p1@example.com|"says ""hi"", twice\nthen leaves"\r\n'
    assert json.loads((tmp_path / "r.json").read_text())["outputs"]["parts"][1] == str(tmp_path / "out.part-002.csv")


def test_bad_output_options_are_one_line_errors(tmp_path) -> None:
    src = write(tmp_path, "in.csv", _contacts(1))
    r = CliRunner().invoke(cli, ["clean", str(src), "-c", "salesforce", "-O", "Contact",
                                 "-o", str(tmp_path / "o.csv"), "--out-delimiter", "COLON"])
    assert r.exit_code == 2 and "COMMA, TAB, PIPE" in r.output
    with pytest.raises(OutputError):
        delimiter_char('"')


def test_record_bigger_than_the_limit_gets_its_own_part(tmp_path) -> None:
    sink = PartedCsvSink(tmp_path / "o.csv", ["a"], max_bytes=10)
    sink.write(pl.DataFrame({"a": ["x" * 50, "y", "z"]}))
    sink.commit()
    assert [p.read_text() for p in sink.final_paths()] == ["a\n" + "x" * 50 + "\n", "a\ny\nz\n"]


def test_salesforce_default_is_10000_records_per_part(tmp_path) -> None:
    src = write(tmp_path, "in.csv", "LastName\n" + "".join(f"N{i}\n" for i in range(10001)))
    report = csvprep.clean_file(src, tmp_path / "out.csv", "Contact", connector="salesforce")
    assert report.outputs["parts"] == [str(tmp_path / "out.part-001.csv"), str(tmp_path / "out.part-002.csv")]
    assert (tmp_path / "out.part-002.csv").read_text() == "LastName\nN10000\n"


def test_objects_lists_every_connector() -> None:
    r = CliRunner().invoke(cli, ["objects"])
    assert r.exit_code == 0
    listed = {tuple(line.split()[:2]) for line in r.output.splitlines()}
    assert {("salesforce", "Contact"), ("salesforce", "Case"), ("google-calendar", "events"),
            ("wufoo", "contact-form"), ("wufoo", "FORM"), ("postgres", "TABLE"), ("marketing", "contact")} <= listed
    r = CliRunner().invoke(cli, ["objects", "-c", "postgres"])
    assert r.exit_code == 0 and "--dsn DSN --table TABLE" in r.output


def test_new_commands_have_help_with_an_example() -> None:
    for args in (["schema", "from-postgres", "--help"], ["schema", "from-wufoo", "--help"]):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0 and "Example" in r.output, args
    r = CliRunner().invoke(cli, ["clean", "--help"])
    for flag in ("--max-rows", "--max-bytes", "--out-delimiter", "--line-ending", "--format", "--dsn", "--table"):
        assert flag in r.output


@pytest.mark.parametrize("batch_rows", [1, 3, 50])
def test_parts_are_filled_to_the_byte_limit_whatever_the_batches(tmp_path, batch_rows: int) -> None:
    """Small batches are written whole when they surely fit; the parts still end where the next
    record would pass the limit, exactly as when every row is sized."""
    frame = pl.DataFrame({"a": [f'v{i},"{i}"' * (i % 4) for i in range(120)], "b": [str(i) for i in range(120)]})
    limit = 300
    sink = PartedCsvSink(tmp_path / "out.csv", ["a", "b"], max_bytes=limit)
    for start in range(0, frame.height, batch_rows):
        sink.write(frame.slice(start, batch_rows))
    sink.commit()
    parts = [p.read_bytes() for p in sink.final_paths()]
    sizes = row_bytes(frame, ",", "\n").to_list()
    header = len(b"a,b\n")
    expected, size = [0], header  # rows per part, filled greedily
    for s in sizes:
        if size + s > limit and expected[-1]:
            expected.append(0)
            size = header
        expected[-1] += 1
        size += s
    assert [pl.read_csv(io.BytesIO(p), infer_schema=False).height for p in parts] == expected
    assert all(len(p) <= limit for p in parts)
    assert pl.concat([pl.read_csv(io.BytesIO(p), infer_schema=False) for p in parts]).equals(frame)
