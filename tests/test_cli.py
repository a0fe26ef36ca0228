"""The command line: exit codes, stdout for data, stderr for messages, one-line errors."""
from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from csvprep.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_has_help_with_an_example(runner):
    for args in (["--help"], ["check", "--help"], ["clean", "--help"], ["objects", "--help"],
                 ["schema", "--help"], ["schema", "show", "--help"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, args
        assert "Example" in result.output, args


def test_check_seed_sample_text(runner, sample_contact):
    result = runner.invoke(cli, ["check", str(sample_contact), "--object", "contact"])
    assert result.exit_code == 0
    assert "rows: 10 read, 10 clean, 0 rejected" in result.stdout
    assert "line 4, C_BusPhone: warning phone.malformed" in result.stdout
    assert result.stderr == ""


def test_check_json_report_shape(runner, sample_contact):
    result = runner.invoke(cli, ["check", str(sample_contact), "-O", "contact", "--format", "json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert set(report) >= {"ok", "file", "encoding", "delimiter", "object", "rows", "issues"}
    assert report["ok"] is True and report["delimiter"] == "\t" and report["object"] == "contact"
    assert report["rows"] == {"read": 10, "clean": 10, "rejected": 0}
    issue = report["issues"][0]
    assert set(issue) == {"line", "column", "value", "code", "severity", "message", "fixed"}
    assert any(i["line"] == 4 and i["code"].startswith("phone.") for i in report["issues"])


def test_strict_turns_warnings_into_failure(runner, sample_contact):
    result = runner.invoke(cli, ["check", str(sample_contact), "-O", "contact", "--strict"])
    assert result.exit_code == 1


def test_data_errors_exit_1(runner, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Email\nnot-an-email\n")
    result = runner.invoke(cli, ["check", str(p), "-O", "contact"])
    assert result.exit_code == 1
    assert "email.invalid" in result.stdout


def test_clean_writes_clean_rejects_and_report(runner, tmp_path, sample_contact):
    src = tmp_path / "in.csv"
    src.write_text("Email,Phone\nA@X.com,303 928 2134\nbad,1\n")
    out = tmp_path / "out" / "clean.csv"
    out.parent.mkdir()
    result = runner.invoke(cli, ["clean", str(src), "-O", "contact", "-o", str(out), "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "rows: 2 read, 1 clean, 1 rejected" in result.stderr
    assert out.read_text() == "C_EmailAddress,C_BusPhone\na@x.com,+13039282134\n"
    rejects = pl.read_csv(tmp_path / "out" / "clean.rejects.csv", infer_schema=False)
    assert rejects.columns == ["_line", "_reasons", "Email", "Phone", "_raw"]
    assert rejects["_line"].to_list() == ["3"] and rejects["Email"].to_list() == ["bad"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows"] == {"read": 2, "clean": 1, "rejected": 1}
    assert not list(out.parent.glob(".*tmp"))


def test_clean_seed_sample(runner, tmp_path, sample_contact):
    out = tmp_path / "contact.csv"
    result = runner.invoke(cli, ["clean", str(sample_contact), "--object", "contact", "-o", str(out), "-q"])
    assert result.exit_code == 0
    assert result.stderr == ""
    clean = pl.read_csv(out, infer_schema=False)
    assert clean.height == 10
    assert clean.filter(pl.col("C_EmailAddress") == "ann@acmedata.com")["C_BusPhone"].item() == "+14444441234"


def test_clean_refuses_to_overwrite_its_input(runner, tmp_path, sample_contact):
    src = tmp_path / "x.csv"
    src.write_bytes(sample_contact.read_bytes())
    before = src.read_bytes()
    result = runner.invoke(cli, ["clean", str(src), "-O", "contact", "-o", str(src)])
    assert result.exit_code == 2
    assert "overwrite the input" in result.stderr
    assert src.read_bytes() == before


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_one_line_errors_exit_2(runner, tmp_path, sample_contact):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 50)
    broken = tmp_path / "broken.yaml"
    broken.write_text("fields: [unclosed\n")
    no_fields = tmp_path / "nofields.yaml"
    no_fields.write_text("object: x\n")
    cases = [
        (["check", str(tmp_path / "missing.csv")], "no such file"),
        (["check", str(tmp_path)], "directory"),
        (["check", str(empty)], "empty"),
        (["check", str(binary)], "binary"),
        (["check", str(sample_contact), "-O", "nosuchobject"], "unknown object"),
        (["check", str(sample_contact), "-O", "contact", "-c", "nosuchconnector"], "unknown connector"),
        (["check", str(sample_contact), "--schema", str(broken)], "not valid YAML"),
        (["check", str(sample_contact), "--schema", str(no_fields)], "fields"),
        (["check", str(sample_contact), "--encoding", "klingon"], "unknown encoding"),
        (["clean", str(sample_contact), "-O", "contact", "-o", str(tmp_path / "no" / "dir" / "x.csv")], "does not exist"),
    ]
    for args, needle in cases:
        line = _one_line_error(runner.invoke(cli, args))
        assert needle in line, (args, line)


def test_header_only_file_is_ok(runner, tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("C_EmailAddress,C_FirstName\n")
    result = runner.invoke(cli, ["check", str(p), "-O", "contact", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rows"] == {"read": 0, "clean": 0, "rejected": 0}


def test_structure_only_check(runner, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("a,b\n1,2\n3\n")
    result = runner.invoke(cli, ["check", str(p), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["object"] is None
    assert [(i["line"], i["code"]) for i in report["issues"]] == [(3, "row.missing_cells")]


def test_objects_and_schema_show(runner):
    result = runner.invoke(cli, ["objects", "--connector", "marketing"])
    assert result.exit_code == 0
    assert {ln.split()[1] for ln in result.stdout.splitlines()} == {"contact", "account", "activities", "campaign", "list"}
    result = runner.invoke(cli, ["schema", "show", "contact"])
    assert result.exit_code == 0
    assert "C_EmailAddress" in result.stdout and "email" in result.stdout and "key: C_EmailAddress" in result.stdout


def test_closed_stdout_pipe_is_not_an_error(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "big.csv"
    p.write_text("Email,Phone\n" + "".join(f"u{i}@x.com,bad{i}\n" for i in range(20000)))
    proc = subprocess.Popen([sys.executable, "-c", "from csvprep.cli import cli; cli()", "check", str(p),
                             "-O", "contact", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1  # data errors, as without the pipe
    assert err == ""


def test_invalid_date_message_shows_an_example(tmp_path):
    import csvprep

    p = tmp_path / "c.csv"
    p.write_text("name,startAt\nLaunch,31/31/2024\n")
    res = csvprep.check(p, object="campaign")
    msg = res.issues.filter(pl.col("code") == "date.invalid")["message"].item()
    assert "2024-05-31" in msg
