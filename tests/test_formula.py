"""Formula injection: cells a spreadsheet would run are flagged, and escaped on request."""
from __future__ import annotations

import csv

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.formula import risky

from conftest import write

DIRTY = (
    "name,phone,note\n"
    'Ann,+1 303 555 0100,"=HYPERLINK(""http://evil.example"",""click"")"\n'
    "Bob,-5,@SUM(A1:A9)\n"
    "Cy,+44 20 7946 0958 ext. 12,\"+cmd|' /C calc'!A0\"\n"
    'Di,(303) 555-0101,"\tleading tab"\n'
    "Ed,12,- a bullet point\n"
    "Fay,0,plain text\n"
)


@pytest.mark.parametrize("value, flagged", [
    ("=1+1", True), ("+cmd|' /C calc'!A0", True), ("-2+3+cmd|' /C calc'!A0", True), ("@SUM(A1)", True),
    ("\t=1", True), ("\rx", True), ("- item", True), ("+", True), ("=", True), ("-$x", True),
    ("+1 303 555 0100", False), ("+13035550100 ext. 12", False), ("-12.5", False), ("+44 (20) 7946-0958", False),
    ("-1,234.50", False), ("-$1000", False), ("-", False), ("--", False), ("plain", False), ("a=b", False), ("'=already escaped", False), ("", False), (None, False),
])
def test_what_counts_as_a_formula(value, flagged):
    assert risky(pl.Series([value], dtype=pl.String)).to_list() == [flagged]


CASES = ["=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "- item", "+", "-$x", "+1 303 555 0100", "+13035550100",
         "-12.5", "-", "plain", "a=b", "", None]


@pytest.mark.parametrize("share", [0.1, 0.5, 0.9])
def test_columns_judge_each_value_as_on_its_own(share):
    """Mostly triggering columns (E.164 phones) take the whole-column path, the others the
    triggering rows only: both give each value's own verdict."""
    triggering = [c for c in CASES if c and c[0] in "=+-@"]
    other = [c for c in CASES if not (c and c[0] in "=+-@")]
    n = 200
    values = [triggering[i % len(triggering)] if i < share * n else other[i % len(other)] for i in range(n)]
    expected = [risky(pl.Series([x], dtype=pl.String)).item() for x in values]
    assert risky(pl.Series(values, dtype=pl.String)).to_list() == expected


def test_structure_only_check_flags_formulas_as_warnings(tmp_path):
    report = csvprep.check(write(tmp_path, "in.csv", DIRTY))
    formulas = report.issues.filter(pl.col("code") == "text.formula")
    assert formulas.select("line", "column").rows() == [(2, "note"), (3, "note"), (4, "note"), (5, "note"), (6, "note")]
    assert set(formulas["severity"]) == {"warning"}
    assert report.errors == 0 and report.rejected == 0
    assert formulas["fixed"].null_count() == formulas.height  # nothing changed without the flag


def test_clean_escapes_formulas_with_a_leading_quote(tmp_path):
    result = csvprep.clean(write(tmp_path, "in.csv", DIRTY), escape_formulas=True)
    assert result.clean["note"].to_list() == [
        "'=HYPERLINK(\"http://evil.example\",\"click\")", "'@SUM(A1:A9)", "'+cmd|' /C calc'!A0",
        "'\tleading tab", "'- a bullet point", "plain text"]
    assert result.clean["phone"].to_list()[:3] == ["+1 303 555 0100", "-5", "+44 20 7946 0958 ext. 12"]
    fixed = result.report.issues.filter(pl.col("code") == "text.formula")
    assert fixed["fixed"].to_list() == result.clean["note"].to_list()[:5]
    assert fixed["value"][0] == "=HYPERLINK(\"http://evil.example\",\"click\")"
    assert "a leading ' was added" in fixed["message"][0]


def test_escaped_output_is_stable_when_cleaned_again(tmp_path):
    src = write(tmp_path, "in.csv", DIRTY)
    csvprep.clean_file(src, tmp_path / "once.csv", escape_formulas=True)
    again = csvprep.clean_file(tmp_path / "once.csv", tmp_path / "twice.csv", escape_formulas=True)
    assert again.issues.height == 0
    assert (tmp_path / "once.csv").read_bytes() == (tmp_path / "twice.csv").read_bytes()


def test_phone_fields_written_in_e164_are_not_formulas_but_text_fields_are(tmp_path):
    data = ("Email,Mobile Phone,First Name,Company\n"
            "ann@example.com,+1 303 555 0100,=cmd,@acme\n"
            "bob@example.com,(303) 555-0101 x12,Bob,-Acme-\n")
    result = csvprep.clean(write(tmp_path, "c.csv", data), "contact", escape_formulas=True)
    assert result.clean["C_MobilePhone"].to_list() == ["+13035550100", "+13035550101 ext. 12"]
    assert result.clean["C_FirstName"].to_list() == ["'=cmd", "Bob"]
    assert result.clean["C_Company"].to_list() == ["'@acme", "'-Acme-"]
    issues = result.report.issues.filter(pl.col("code") == "text.formula")
    assert issues.select("line", "column").rows() == [(2, "First Name"), (2, "Company"), (3, "Company")]


def test_cli_flag_and_exit_codes(tmp_path):
    src = write(tmp_path, "in.csv", DIRTY)
    runner = CliRunner()
    checked = runner.invoke(cli, ["check", str(src)])
    assert checked.exit_code == 0 and "text.formula" in checked.stdout
    assert runner.invoke(cli, ["check", str(src), "--strict"]).exit_code == 1
    out = tmp_path / "out.csv"
    cleaned = runner.invoke(cli, ["clean", str(src), "-o", str(out), "--escape-formulas", "-q"])
    assert cleaned.exit_code == 0, cleaned.output
    with out.open(newline="", encoding="utf-8") as fh:
        notes = [r["note"] for r in csv.DictReader(fh)]
    assert all(not n or n[0] not in "=+-@\t\r" for n in notes)
    assert notes[0].startswith("'=HYPERLINK")


def test_escaping_counts_against_max_length(tmp_path) -> None:
    """A value of exactly max_length that gets a leading ' no longer fits: it is rejected as too
    long (pandera checks the values as written), not written one character over the limit."""
    title = "=" + "A" * 127  # Contact.Title holds 128
    src = write(tmp_path, "in.csv", f"Last Name,Email,Title\nSmith,a@x.com,{title}\nJones,b@x.com,{title[:-1]}\n")
    escaped = csvprep.clean(src, "Contact", connector="salesforce", escape_formulas=True)
    assert escaped.report.as_rows()[:1] == [[2, "Title", "field.too_long"]]
    assert "--escape-formulas" in escaped.report.issues.filter(pl.col("code") == "field.too_long")["message"][0]
    assert escaped.clean["Title"].to_list() == ["'" + title[:-1]]  # 128 characters with the quote
    flagged = csvprep.clean(src, "Contact", connector="salesforce")
    assert flagged.report.rejected == 0 and flagged.clean["Title"].to_list() == [title, title[:-1]]
