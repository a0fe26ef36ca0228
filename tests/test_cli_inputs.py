"""Inputs through the command line: weak guesses said, odd files read with the options people expect."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from csvprep.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def report_of(*args: str, input: bytes | None = None) -> dict:
    result = run("check", *args, "--format", "json", input=input)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def codes(report: dict) -> list[tuple[int | None, str | None, str]]:
    return [(i["line"], i["column"], i["code"]) for i in report["issues"]]


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# -- guesses that lost rows ---------------------------------------------------------------------

def test_a_delimiter_the_header_lacks_is_not_guessed_and_the_guess_is_said(tmp_path):
    src = write(tmp_path, "web.csv", b"Website\nhttps://a.com:8080/x\nhttps://b.com\n")
    result = run("check", src)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{src} (structure only): utf-8, delimiter ','",
        "rows: 2 read, 2 clean, 0 rejected",
        "issues: 0 error(s), 1 warning(s)",
        "",
        "        1  dialect.guessed  warning",
        "",
        "file: warning dialect.guessed: ',' the delimiter is a guess: the first line has no ':', so it was not "
        "taken as the delimiter; candidates by score: ',' (0), ':' (0.389); give --delimiter if it is wrong",
    ]


def test_a_table_under_a_title_row_still_gets_its_delimiter(tmp_path):
    """Overwhelming evidence: a title line without the delimiter above rows that all split alike."""
    src = write(tmp_path, "t.csv", b"Sales report 2024\na;b;c\n1;2;3\n4;5;6\n7;8;9\n")
    report = report_of(src)
    assert report["delimiter"] == ";"
    assert codes(report) == [(1, None, "header.title_row")]


def test_a_latin1_file_with_a_weak_guess_falls_back_to_cp1252_and_says_so(tmp_path):
    text = "city\tcountry\tpop\nBéjaïa\tAlgeria\t177988\nAïn Defla\tAlgeria\t50000\n"
    src = write(tmp_path, "dz.tsv", text.encode("latin-1"))
    report = report_of(src)
    assert report["encoding"] == "cp1252"
    assert [(i["code"], i["severity"], i["value"]) for i in report["issues"]] == [
        ("encoding.guessed", "warning", "cp1252")]
    assert "confidence 0.0" in report["issues"][0]["message"]
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-o", str(out), "-q").exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1] == "Béjaïa,Algeria,177988"


def test_a_greek_file_keeps_its_own_encoding(tmp_path):
    text = "όνομα,πόλη\nΓιώργος,Αθήνα\nΜαρία,Θεσσαλονίκη\nΝίκος,Πάτρα\n"
    report = report_of(write(tmp_path, "gr.csv", text.encode("cp1253")))
    assert report["encoding"] in ("cp1253", "iso8859-7")


def test_a_utf8_file_has_no_encoding_warning(tmp_path):
    report = report_of(write(tmp_path, "u.csv", "a,b\nBéjaïa,1\n".encode()))
    assert report["encoding"] == "utf-8" and codes(report) == []


def test_a_trailing_delimiter_on_every_row_is_one_warning_not_a_rejected_file(tmp_path):
    src = write(tmp_path, "t.csv", b"a,b,c\n1,2,3,\n4,5,6,\n7,8,9,\n")
    result = run("check", src)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "rows: 3 read, 3 clean, 0 rejected",
        "issues: 0 error(s), 1 warning(s)",
        "",
        "        1  row.trailing_delimiter  warning",
        "",
        "file: warning row.trailing_delimiter: every row ends with the delimiter ',' after its last cell; "
        "the empty cell after it is read as an unnamed empty column and left out",
    ]
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-o", str(out), "-q").exit_code == 0
    assert out.read_text() == "a,b,c\n1,2,3\n4,5,6\n7,8,9\n"


# with the header ending in the delimiter too, one data row is enough to tell
@pytest.mark.parametrize("rows", [b"1,2,3,\n4,5,6,\n", b"1,2,3,\n"])
def test_a_trailing_delimiter_on_the_header_too_gives_no_blank_column(tmp_path, rows):
    src = write(tmp_path, "t.csv", b"a,b,c,\n" + rows)
    assert codes(report_of(src)) == [(None, None, "row.trailing_delimiter")]
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-o", str(out), "-q").exit_code == 0
    assert out.read_text() == "a,b,c\n" + rows.decode().replace(",\n", "\n")


def test_one_row_ending_in_an_empty_cell_under_a_plain_header_is_an_extra_cell(tmp_path):
    assert codes(report_of(write(tmp_path, "u.csv", b"a,b,c\n1,2,3,\n"))) == [(2, None, "row.extra_cells")]


def test_a_value_after_the_trailing_delimiter_is_still_an_extra_cell(tmp_path):
    report = report_of(write(tmp_path, "t.csv", b"a,b\n1,2,\n3,4,\n5,6,x\n"))
    # the sample decides: not every row ends in an empty cell, so nothing is taken as trailing
    assert codes(report) == [(2, None, "row.extra_cells"), (3, None, "row.extra_cells"), (4, None, "row.extra_cells")]


def test_trailing_delimiters_in_a_large_file_read_by_polars(tmp_path):
    data = b"a,b,c\n" + b"1,2,3,\n" * 40_000 + b"4,5,6,x\n" + b"7,8,9\n"
    src = write(tmp_path, "big.csv", data)
    report = report_of(src, "--chunk-size", "64KB")
    assert report["rows"] == {"read": 40_002, "clean": 40_001, "rejected": 1}
    assert codes(report) == [(None, None, "row.trailing_delimiter"), (40_002, None, "row.extra_cells")]


# -- standard input ------------------------------------------------------------------------------

def test_dash_reads_standard_input(tmp_path):
    report = report_of("-", input=b"a;b\n1;2\n3\n")
    assert report["file"] == "<stdin>" and report["delimiter"] == ";"
    assert codes(report) == [(3, None, "row.missing_cells")]


def test_a_pipe_on_standard_input_is_spooled_with_its_lines(tmp_path):
    """A real pipe cannot seek: it is copied to a temporary file, so sniffing and lines work."""
    data = b"email,n\n" + b"".join(b"u%d@example.com,%d\n" % (i, i) for i in range(50_000)) + b"x,1,2\n"
    proc = subprocess.run([sys.executable, "-m", "csvprep", "check", "-", "--format", "json", "--chunk-size", "256KB"],
                          input=data, capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["rows"] == {"read": 50_001, "clean": 50_000, "rejected": 1}
    assert codes(report) == [(50_002, None, "row.extra_cells")]


# -- no header, column names, preambles, null values ---------------------------------------------

def test_no_header_names_columns_in_order(tmp_path):
    src = write(tmp_path, "n.csv", b"a@b.com,555-123-4567,12\nc@d.com,555-123-4568,13\n")
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-H", "-o", str(out), "-q").exit_code == 0
    assert out.read_text() == "column_1,column_2,column_3\na@b.com,555-123-4567,12\nc@d.com,555-123-4568,13\n"
    assert run("clean", src, "--no-header", "--columns", "email,phone,n", "-o", str(out), "-q").exit_code == 0
    assert out.read_text().splitlines()[0] == "email,phone,n"


def test_without_the_flag_a_first_row_of_data_is_said(tmp_path):
    src = write(tmp_path, "n.csv", b"a@b.com,555-123-4567,12\nc@d.com,555-123-4568,13\n")
    report = report_of(src)
    assert report["rows"]["read"] == 1
    assert [(i["line"], i["code"], i["message"]) for i in report["issues"]] == [
        (1, "header.looks_like_data", "the header (line 1) looks like data ('a@b.com'): if the file has no header "
         "row, give --no-header (-H); its first row is read as column names here")]
    assert codes(report_of(src, "-H")) == []


def test_a_header_of_years_is_not_data(tmp_path):
    assert codes(report_of(write(tmp_path, "y.csv", b"region,2022,2023\nnorth,1,2\n"))) == []


def test_no_header_with_a_schema_maps_by_position(tmp_path):
    schema = tmp_path / "s.yaml"
    schema.write_text("connector: mine\nobject: person\nfields:\n"
                      "  - {name: email, type: email, required: true}\n"
                      "  - {name: phone, type: phone, region: US}\n")
    src = write(tmp_path, "n.csv", b"A@B.com,(303) 555-0100\nnot-an-email,\n")
    out = tmp_path / "clean.csv"
    result = run("clean", src, "-H", "--schema", str(schema), "-o", str(out), "-q")
    assert result.exit_code == 1
    assert out.read_text() == "email,phone\na@b.com,+13035550100\n"
    report = report_of(src, "-H", "--schema", str(schema))
    assert codes(report) == [(2, "email", "email.invalid")]


def test_columns_of_the_wrong_count_are_refused_with_a_header(tmp_path):
    result = run("check", write(tmp_path, "c.csv", b"a,b\n1,2\n"), "--columns", "x,y,z")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("--columns names 3 column(s) but the header (line 1) has 2: "
                                          "give one name per column")


def test_skip_lines_drops_a_preamble_that_looks_like_a_header(tmp_path):
    src = write(tmp_path, "p.csv", b"Exported by,CRM X,on,2024-05-01\nname,email,phone,city\n"
                                   b"Ann,ann@x.com,555,Paris\nBob,bob@x.com,556,Rome\n")
    report = report_of(src, "--skip-lines", "1")
    assert report["rows"] == {"read": 2, "clean": 2, "rejected": 0} and codes(report) == []
    out = tmp_path / "clean.csv"
    assert run("clean", src, "--skip-lines", "1", "-o", str(out), "-q").exit_code == 0
    assert out.read_text().splitlines()[0] == "name,email,phone,city"
    rejects = report_of(write(tmp_path, "q.csv", b"# export\nname,email\nAnn,a@x.com\nBob\n"), "--skip-lines", "1")
    assert codes(rejects) == [(4, None, "row.missing_cells")]  # lines still count the skipped ones


def test_null_values_count_as_empty(tmp_path):
    src = write(tmp_path, "n.csv", b"Email,Phone\na@b.com,N/A\nb@b.com,NULL\nc@c.com,-\nd@d.com,n/a\n")
    report = report_of(src, "-O", "contact", "--null", "N/A", "--null", "NULL", "--null", "-")
    assert codes(report) == [(5, "Phone", "phone.invalid")]  # exact values only
    out = tmp_path / "clean.csv"
    run("clean", src, "-O", "contact", "--null", "N/A", "--null", "NULL", "--null", "-", "-o", str(out), "-q")
    assert out.read_text().splitlines()[1:] == ["a@b.com,", "b@b.com,", "c@c.com,"]
    plain = report_of(src, "-O", "contact")
    assert [c[2] for c in codes(plain)] == ["phone.invalid"] * 4


@pytest.mark.parametrize("args", [["--skip-lines", "-1"], ["--columns", "a,,b"]])
def test_bad_input_options_are_refused(tmp_path, args):
    result = run("check", write(tmp_path, "a.csv", b"a,b\n1,2\n"), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_layout_guesses_do_not_depend_on_the_chunk_size(tmp_path):
    """The trailing delimiter and a headerless file's width come from the sample, not the first chunk."""
    trailing = write(tmp_path, "t.csv", b"a,b,c,\n1,2,3,\n4,5,6,\n7,8,9,\n")
    headerless = write(tmp_path, "h.csv", b"1,2\n3,4,5\n6,7,8\n9,10,11\n")
    for src, args in ((trailing, []), (headerless, ["-H"])):
        whole = report_of(src, *args)
        small = report_of(src, *args, "--chunk-size", "8B")
        assert codes(small) == codes(whole) and small["rows"] == whole["rows"], src
    assert codes(report_of(headerless, "-H")) == [(1, None, "row.missing_cells")]
