"""Every file of the shared real-world corpus: no traceback, every row accounted for, clean output re-reads."""
from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.formula import risky
from csvprep.reader import CsvReader

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"


def _manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ENTRIES = _manifest()
FILES = [e["local_path"] for e in ENTRIES] or ["<no corpus>"]
MODES = {"structure": [], "contact": ["--object", "contact"]}


def corpus_file(name: str) -> Path:
    if not ENTRIES:
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the corpus")
    return path


def codes(report: dict[str, Any]) -> list[tuple[int | None, str]]:
    """(line, code) of every issue but formula warnings (tested on their own)."""
    return [(i["line"], i["code"]) for i in report["issues"] if i["code"] != "text.formula"]


def count(report: dict[str, Any], code: str) -> int:
    return sum(1 for i in report["issues"] if i["code"] == code)


def read_back(path: Path) -> tuple[pl.DataFrame, list[list[str]]]:
    """The clean file read by polars (all text) and by Python's csv module."""
    frame = pl.read_csv(path, infer_schema=False, raise_if_empty=False)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return frame, rows


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", FILES)
def test_corpus_file_check_and_clean(name: str, mode: str, tmp_path: Path) -> None:
    path = corpus_file(name)
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", str(path), "--format", "json", *MODES[mode]])
    assert checked.exception is None or isinstance(checked.exception, SystemExit), checked.exception
    assert "Traceback" not in checked.output
    assert checked.exit_code in (0, 1, 2)
    if checked.exit_code == 2:
        assert len(checked.stderr.strip().splitlines()) == 1, checked.stderr
        return
    report = json.loads(checked.stdout)
    rows = report["rows"]
    assert rows["read"] == rows["clean"] + rows["rejected"]
    assert checked.exit_code == (1 if any(i["severity"] == "error" for i in report["issues"]) else 0)

    out, rej, rep = tmp_path / "clean.csv", tmp_path / "rejects.csv", tmp_path / "report.json"
    cleaned = runner.invoke(cli, ["clean", str(path), "-o", str(out), "--rejects", str(rej),
                                  "--report", str(rep), "--quiet", *MODES[mode]])
    assert cleaned.exception is None or isinstance(cleaned.exception, SystemExit), cleaned.exception
    assert "Traceback" not in cleaned.output
    assert cleaned.exit_code == checked.exit_code, cleaned.stderr
    written = json.loads(rep.read_text(encoding="utf-8"))
    assert written["rows"] == rows
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.csv", "rejects.csv", "report.json"]

    frame, py_rows = read_back(out)
    assert frame.height == rows["clean"]
    assert len(py_rows) == rows["clean"] + 1
    header = py_rows[0]
    assert frame.columns == header
    assert all(len(r) == len(header) for r in py_rows)
    if mode == "structure":
        assert header == CsvReader(path).info.header
    rejects, py_rejects = read_back(rej)
    assert rejects.height == rows["rejected"] == len(py_rejects) - 1
    assert rejects.columns[:2] == ["_line", "_reasons"]


def _structure(name: str) -> dict[str, Any]:
    path = corpus_file(name)
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _clean(name: str) -> csvprep.Result:
    return csvprep.clean(corpus_file(name))


# What MANIFEST.tsv says about a file, in csvprep's words.
EXPECTED: dict[str, Callable[[dict[str, Any], csvprep.Result], None]] = {}


def expect(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def deco(fn: Callable[..., None]) -> Callable[..., None]:
        EXPECTED[name] = fn
        return fn
    return deco


@expect("csvkit/bad.csv")
def _bad(report, result):
    assert codes(report) == [(2, "row.extra_cells"), (3, "row.missing_cells")]


@expect("csvkit/bad_skip_lines.csv")
def _bad_skip(report, result):
    assert codes(report) == [(4, "header.blank_lines_skipped"), (5, "row.extra_cells"), (6, "row.missing_cells")]


@expect("csvlint.rb/title-row.csv")
def _title_row(report, result):
    assert codes(report) == [(1, "header.title_row")]
    assert result.clean.columns == ["Foo", "Bsr", "Baz"]
    assert report["rows"]["read"] == 2


@expect("csvkit/Datagov_FY10_EDU_recp_by_State.csv")
def _datagov(report, result):
    assert (2, "header.title_row") in codes(report)
    assert (3, "header.blank_lines_skipped") in codes(report)
    assert result.clean.columns[0] == "State Name"


@expect("qsv/iwfg09_Phos_river_200911.csv")
def _iwfg09(report, result):
    assert count(report, "header.title_row") >= 10
    assert result.clean.columns[0] == "Location"


@expect("frictionless-py/invalid.csv")
def _frictionless_invalid(report, result):
    found = codes(report)
    assert (1, "header.blank") in found and (1, "header.duplicate") in found
    assert [c for c in found if c[1].startswith("row.")] == [
        (2, "row.missing_cells"), (3, "row.missing_cells"), (4, "row.blank"), (5, "row.extra_cells")]


@expect("frictionless-py/duplicate-headers.csv")
def _dup_headers(report, result):
    assert count(report, "header.duplicate") == 2


@expect("csvkit/test_empty_columns.csv")
def _empty_columns(report, result):
    assert count(report, "header.blank") == 2


@expect("qsv/boston311-100-bad.tsv")
def _boston_bad(report, result):
    assert report["delimiter"] == "\t"
    assert codes(report) == [(41, "row.extra_cells")]


@expect("frictionless-py/without-headers-extra.csv")
def _headerless_extra(report, result):
    assert codes(report) == [(3, "row.extra_cells")]


@expect("node-csvtojson/dataWithUnclosedQuotes")
def _unclosed(report, result):
    assert count(report, "row.unterminated_quote") == 1


@expect("csvlint.rb/invalid_many_rows.csv")
def _many_rows(report, result):
    assert codes(report) == [(4, "row.stray_quote"), (8, "row.blank"), (11, "row.blank")]


@expect("frictionless-py/escaping.csv")
def _escaping(report, result):
    # both "" and \" in one column: the \" row is read as shown, with a warning
    assert codes(report) == [(4, "row.stray_quote")]
    assert result.clean["ID"].to_list() == ["1", "2", "3"]


@expect("node-csvtojson/dataIgnoreEmpty")
def _ignore_empty(report, result):
    assert (4, "header.blank_lines_skipped") in codes(report)
    assert count(report, "row.blank") >= 3


@expect("data-exchange-csv/file-with-headers-windows1252.csv")
def _row14(report, result):
    assert codes(report) == [(14, "row.missing_cells")]


@expect("csvkit/mac_newlines.csv")
def _mac_newlines(report, result):
    assert result.clean.rows() == [("1", "2", "3"), ("Once upon\na time", "5", "6")]
    assert codes(report) == []


@expect("csvkit/test_header_newline.csv")
def _header_newline(report, result):
    assert result.clean.columns[0] == "start end"


@expect("csvkit/test_latin1.csv")
def _latin1(report, result):
    assert report["encoding"] in ("cp1252", "latin-1", "iso8859-1")
    assert result.clean.rows()[-1] == ("4", "5", "©")


@expect("csvkit/test_utf16_little.csv")
def _utf16(report, result):
    assert report["encoding"] == "utf-16-le"
    assert result.clean.rows() == [("1", "2", "3"), ("4", "5", "ʤ")]


@expect("csvlint.rb/invalid-byte-sequence.csv")
def _iso_8859_1(report, result):
    assert report["encoding"] in ("cp1252", "latin-1", "iso8859-1")
    assert any("Histórico" in c for c in result.clean.columns)


@expect("frictionless-py/table-infer-iso-8859-7.csv")
def _greek(report, result):
    assert report["encoding"] in ("cp1253", "iso8859-7")


@expect("frictionless-py/table-with-accents.csv")
def _accents(report, result):
    assert report["delimiter"] == ";"
    assert "Année" in result.clean.columns


@expect("frictionless-py/encoding-issue-274.csv")
def _late_utf8(report, result):
    assert report["encoding"] == "utf-8"


@expect("node-csvtojson/dataWithLatin1Encoding")
def _bebe(report, result):
    assert result.clean["Name"][0] == "bébé" if "Name" in result.clean.columns else result.clean.row(0)[1] == "bébé"


@expect("qsv/Inpatients_MHA_Machine_readable_dataset_1011.csv")
def _utf16_excel(report, result):
    assert report["encoding"].startswith("utf-16")


@expect("qsv/spendover25kdownloadSep.csv")
def _bom_padded_header(report, result):
    assert result.clean.columns[0] == "Department"
    assert "Amount in Sterling" in result.clean.columns


@expect("data-exchange-csv/file-with-headers-100-rows_with_BOM.csv")
def _bom(report, result):
    assert report["encoding"] == "utf-8" and result.clean.columns[0] == "Index"


@expect("CleverCSV/milk.csv")
def _milk(report, result):
    assert report["delimiter"] == "\t"
    assert report["rows"]["read"] + 1 == 381  # CleverCSV: 381 rows including the header


@expect("CleverCSV/imdb.csv")
def _imdb(report, result):
    titles = result.clean["title"].to_list()
    assert any(t.startswith("Dr. Seltsam, oder wie ich lernte") for t in titles)
    assert codes(report) == []


@expect("node-csvtojson/pipeAsQuote")
def _pipe_quote(report, result):
    assert result.clean.row(0)[2] == "blahhh, blah"


@expect("node-csvtojson/dataWithSlashEscape")
def _slash_escape(report, result):
    assert json.loads(result.clean["raw"][0])["hello"] == "world"


@expect("frictionless-py/doublequote.csv")
def _doublequote(report, result):
    assert len(result.clean.columns) == 17 and codes(report) == []


@expect("frictionless-py/table.csv")
def _pipe_headerless(report, result):
    assert report["delimiter"] == "|"


@expect("csvlint.rb/cr-line-endings.csv")
def _cr(report, result):
    assert report["rows"] == {"read": 2, "clean": 2, "rejected": 0}


@expect("csvlint.rb/inconsistent-line-endings.csv")
def _mixed_eol(report, result):
    assert report["rows"] == {"read": 2, "clean": 2, "rejected": 0}


@expect("node-csvtojson/testEol")
def _test_eol(report, result):
    assert report["rows"]["read"] + 1 == 2  # headerless: the first of its two rows is taken as the header


@expect("values/libphonenumber_invalid_strings.txt")
def _comment_line(report, result):
    assert codes(report) == [(1, "header.title_row")]
    assert len(result.clean.columns) == 3  # text, region, expected: the comment line is not the header


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_matches_manifest(name: str) -> None:
    EXPECTED[name](_structure(name), _clean(name))


def test_batched_reading_agrees_on_the_corpus() -> None:
    """Tiny chunks (many batches) give the same rows and issues as one batch, file by file."""
    for name in FILES:
        path = corpus_file(name)
        try:
            whole = csvprep.clean(path)
        except csvprep.CsvprepError:
            continue
        batched = csvprep.clean(path, chunk_bytes=max(61, path.stat().st_size // 25 | 1))  # ~25 batches
        assert batched.clean.equals(whole.clean), name
        assert batched.rejects.equals(whole.rejects), name
        assert batched.report.as_rows() == whole.report.as_rows(), name


@pytest.mark.parametrize("name", ["values/libphonenumber_test_strings.tsv", "values/email-validator_test_cases.tsv"])
def test_formula_cells_in_the_corpus_are_flagged_and_escaped(name: str, tmp_path: Path) -> None:
    path = corpus_file(name)
    report = csvprep.check(path)
    flagged = report.issues.filter(pl.col("code") == "text.formula")
    assert flagged.height > 0 and set(flagged["severity"]) == {"warning"}
    out = tmp_path / "clean.csv"
    csvprep.clean_file(path, out, escape_formulas=True)
    frame = pl.read_csv(out, infer_schema=False)
    for column in frame.columns:
        assert not risky(frame[column]).any(), column
    again = csvprep.clean_file(out, tmp_path / "again.csv", delimiter=",")
    assert again.issues.filter(pl.col("code") == "text.formula").height == 0
