"""The fix-and-rerun loop: a rejects file given back is read as the original, earlier clean files' keys count."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from csvprep.cli import cli

SOURCE = (b"Email,Name,Phone\n"
          b"a@b.com,Ann,(303) 555-0100\n"        # 2 clean
          b"bad-email,Bob,(303) 555-0101\n"       # 3 email.invalid
          b"c@d.com,Cy\n"                         # 4 ragged
          b"a@b.com,Ann again,(303) 555-0102\n"   # 5 key.duplicate of line 2
          b'"e@f.com",Eve,"(303) 555-0103"\n')    # 6 clean


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def report_of(*args: str) -> dict:
    result = run("check", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def codes(report: dict) -> list[tuple[int | None, str | None, str]]:
    return [(i["line"], i["column"], i["code"]) for i in report["issues"]]


def first_run(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "export.csv"
    src.write_bytes(SOURCE)
    out = tmp_path / "clean.csv"
    assert run("clean", str(src), "-O", "contact", "-o", str(out), "-q").exit_code == 1
    return out, tmp_path / "clean.rejects.csv"


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_the_rejects_file_is_what_the_loop_starts_from(tmp_path):
    out, rejects = first_run(tmp_path)
    assert rows_of(rejects) == [
        ["_line", "_reasons", "Email", "Name", "Phone", "_raw"],
        ["3", "email.invalid (Email)", "bad-email", "Bob", "(303) 555-0101", ""],
        ["4", "row.missing_cells (row)", "", "", "", "c@d.com,Cy"],
        ["5", "key.duplicate (Email)", "a@b.com", "Ann again", "(303) 555-0102", ""],
    ]


def test_a_rejects_file_given_back_is_read_as_the_original(tmp_path):
    _, rejects = first_run(tmp_path)
    report = report_of(str(rejects), "-O", "contact")
    # no renamed _line_1/_reasons_2/_raw_6 columns, no warnings about them; the original lines
    assert codes(report) == [(1, "Name", "header.unknown"), (3, "Email", "email.invalid"),
                             (4, None, "row.missing_cells")]
    assert report["issues"][2]["value"] == "c@d.com,Cy"  # the ragged row, from _raw
    structure = report_of(str(rejects))
    assert codes(structure) == [(4, None, "row.missing_cells")]


def test_fixed_rows_come_out_clean_and_the_rest_keep_their_original_lines(tmp_path):
    out, rejects = first_run(tmp_path)
    rows = rows_of(rejects)
    rows[1][2] = "bob@b.com"          # fix the email
    rows[2][5] = "c@d.com,Cy,(303) 555-0104"  # fix the ragged row in _raw
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(buf.getvalue())
    again = tmp_path / "again.csv"
    result = run("clean", str(fixed), "-O", "contact", "-o", str(again), "-q")
    # every row is clean now, line 5 too: it was a key duplicate of the first file's line 2, which
    # this file does not hold (--seen with the first clean file keeps it a duplicate: below)
    assert result.exit_code == 0
    assert rows_of(again) == [["C_EmailAddress", "C_BusPhone"], ["bob@b.com", "+13035550101"],
                              ["c@d.com", "+13035550104"], ["a@b.com", "+13035550102"]]
    seen = tmp_path / "again2.csv"
    result = run("clean", str(fixed), "-O", "contact", "-o", str(seen), "--seen", str(out), "-q")
    assert result.exit_code == 1
    assert rows_of(seen) == [["C_EmailAddress", "C_BusPhone"], ["bob@b.com", "+13035550101"],
                             ["c@d.com", "+13035550104"]]
    assert rows_of(tmp_path / "again2.rejects.csv")[1][:2] == ["5", "key.duplicate (Email)"]


def test_seen_names_the_earlier_file(tmp_path):
    out, rejects = first_run(tmp_path)
    new = tmp_path / "new.csv"
    new.write_bytes(b"Email,Phone\nA@B.com,(303) 555-0100\nz@z.com,(303) 555-0105\nz@z.com,(303) 555-0106\n")
    report = report_of(str(new), "-O", "contact", "--seen", str(out))
    dups = [(i["line"], i["message"]) for i in report["issues"] if i["code"] == "key.duplicate"]
    assert dups == [(2, f"repeats the key of line 2 of {out}, an earlier clean file (--seen)"),
                    (4, "repeats the key of line 3; the first occurrence is kept")]
    other = tmp_path / "older.csv"
    other.write_text("C_EmailAddress\nz@z.com\n")
    report = report_of(str(new), "-O", "contact", "--seen", str(out), "--seen", str(other))
    dups = [(i["line"], i["message"]) for i in report["issues"] if i["code"] == "key.duplicate"]
    assert dups == [(2, f"repeats the key of line 2 of {out}, an earlier clean file (--seen)"),
                    (3, f"repeats the key of line 2 of {other}, an earlier clean file (--seen)"),
                    (4, f"repeats the key of line 2 of {other}, an earlier clean file (--seen)")]


def test_seen_needs_a_key(tmp_path):
    out, _ = first_run(tmp_path)
    result = run("check", str(out), "--seen", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: --seen needs an object (or schema) with a key: "
                                     "the keys are what it compares")


def test_seen_file_without_the_key_column_is_refused(tmp_path):
    out, _ = first_run(tmp_path)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("C_FirstName\nAnn\n")
    result = run("check", str(out), "-O", "contact", "--seen", str(wrong))
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"Error: {wrong}: has no column for the key C_EmailAddress: "
                                     "give a clean file written for contact")


def test_an_edited_rejects_file_out_of_order_is_renumbered_and_says_so(tmp_path):
    _, rejects = first_run(tmp_path)
    rows = rows_of(rejects)
    rows[1], rows[3] = rows[3], rows[1]  # sorted by another column in a spreadsheet
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    edited = tmp_path / "edited.csv"
    edited.write_text(buf.getvalue())
    report = report_of(str(edited))
    assert codes(report) == [(None, None, "rerun.renumbered"), (3, None, "row.missing_cells")]


def test_the_ray_engine_refuses_seen_rather_than_ignoring_it(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    out, _ = first_run(tmp_path)
    result = run("clean", str(tmp_path / "export.csv"), "-O", "contact", "-o", str(tmp_path / "ray"),
                 "--engine", "ray", "--seen", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: --seen: not supported by the ray engine yet: use the default engine"
