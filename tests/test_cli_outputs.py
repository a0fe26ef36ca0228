"""Outputs other programs can use: permissions, standard output, no stale parts, empty cells, the summary."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from csvprep.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


CONTACTS = b"Email,Phone\na@b.com,(303) 555-0100\nc@d.com,(303) 555-0101\ne@f.com,(303) 555-0102\n" \
           b"g@h.com,(303) 555-0103\nbad,(303) 555-0104\n"


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_outputs_get_the_permissions_open_would_give(tmp_path, umask_022):
    src = write(tmp_path, "in.csv", CONTACTS)
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-O", "contact", "-o", str(out), "--report", str(tmp_path / "r.json"), "-q").exit_code == 1
    for name in ("clean.csv", "clean.rejects.csv", "r.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    os.umask(0o077)
    other = tmp_path / "private.csv"
    run("clean", src, "-O", "contact", "-o", str(other), "-q")
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    out.chmod(0o664)  # a file written over keeps its own mode, as open(..., "w") would
    run("clean", src, "-O", "contact", "-o", str(out), "-q")
    assert stat.S_IMODE(out.stat().st_mode) == 0o664


def test_dash_o_writes_the_clean_file_to_standard_output(tmp_path):
    src = write(tmp_path, "in.csv", CONTACTS)
    rejects = tmp_path / "bad.csv"
    proc = subprocess.run([sys.executable, "-m", "csvprep", "clean", src, "-O", "contact", "-o", "-",
                           "--rejects", str(rejects), "-q"], capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.decode() == ("C_EmailAddress,C_BusPhone\na@b.com,+13035550100\nc@d.com,+13035550101\n"
                                    "e@f.com,+13035550102\ng@h.com,+13035550103\n")
    assert rejects.read_text().splitlines()[1].startswith("6,email.invalid (Email),bad,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "in.csv"]  # no temporary file left


def test_dash_o_needs_a_rejects_path(tmp_path):
    result = run("clean", write(tmp_path, "in.csv", CONTACTS), "-o", "-")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: -o - writes the clean rows to standard output: "
                                     "give --rejects PATH for the rejected rows")


def test_a_device_link_is_written_through_not_replaced(tmp_path):
    """`-o /dev/stdout` as root replaced the device link with a regular file; a link to a device
    (here /dev/null) is now written through and stays what it was."""
    link = tmp_path / "out.csv"
    link.symlink_to("/dev/null")
    result = run("clean", write(tmp_path, "in.csv", CONTACTS), "-O", "contact", "-o", str(link),
                 "--rejects", str(tmp_path / "rej.csv"), "-q")
    assert result.exit_code == 1
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "rej.csv"]


def test_parts_need_a_file_not_a_stream(tmp_path):
    result = run("clean", write(tmp_path, "in.csv", CONTACTS), "-o", "-", "--rejects", str(tmp_path / "r.csv"),
                 "--max-rows", "2")
    assert result.exit_code == 2
    assert "parts (--max-rows, --max-bytes) need a file name, not a stream" in result.stderr


def test_a_rerun_removes_the_stale_parts_of_the_same_out_and_says_so(tmp_path):
    src = write(tmp_path, "in.csv", CONTACTS)
    out = tmp_path / "out.csv"
    assert run("clean", src, "-O", "contact", "-o", str(out), "--max-rows", "1", "-q").exit_code == 1
    assert sorted(p.name for p in tmp_path.glob("out.part-*.csv")) == [f"out.part-00{i}.csv" for i in range(1, 5)]
    result = run("clean", src, "-O", "contact", "-o", str(out), "--max-rows", "3", "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.glob("out.part-*.csv")) == ["out.part-001.csv", "out.part-002.csv"]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["outputs"]["removed"] == [str(tmp_path / "out.part-003.csv"), str(tmp_path / "out.part-004.csv")]
    assert result.stderr.splitlines()[-2] == f"removed: {tmp_path / 'out.part-003.csv'}, {tmp_path / 'out.part-004.csv'}"
    # one file this time: every old part goes
    assert run("clean", src, "-O", "contact", "-o", str(out), "-q").exit_code == 1
    assert list(tmp_path.glob("out.part-*.csv")) == [] and out.is_file()
    # and parts again: the old single OUT goes too
    assert run("clean", src, "-O", "contact", "-o", str(out), "--max-rows", "2", "-q").exit_code == 1
    assert not out.exists() and len(list(tmp_path.glob("out.part-*.csv"))) == 2


def test_structure_only_clean_writes_empty_cells_unquoted(tmp_path):
    src = write(tmp_path, "in.csv", b'a,b,c\n1,,3\n"",x,""\n4,"",\n')
    out = tmp_path / "clean.csv"
    assert run("clean", src, "-o", str(out), "-q").exit_code == 0
    assert out.read_bytes() == b"a,b,c\n1,,3\n,x,\n4,,\n"


MANY = b"Name,Phone\n" + b"".join(b"n%d,(303) 555-%04d\n" % (i, i) for i in range(30))


def test_the_summary_lists_errors_before_warnings_and_always_the_file_level_error(tmp_path):
    result = run("check", write(tmp_path, "m.csv", MANY), "-O", "contact")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[2] == "issues: 31 error(s), 1 warning(s)"
    assert lines[4:7] == [
        "       30  row.not_loadable         error",
        "        1  header.missing_required  error",
        "        1  header.unknown           warning",
    ]
    assert lines[8].startswith("line 1, C_EmailAddress: error header.missing_required: required column")
    assert lines[9].startswith("line 2: error row.not_loadable: ")
    assert lines[8 + 20] == "... and 12 more (use --format json for all)"
    assert all(" error " in ln for ln in lines[8:28])  # 20 shown, all errors: the warning comes after


def test_clean_summary_shows_the_file_level_error_within_its_limit(tmp_path):
    result = run("clean", write(tmp_path, "m.csv", MANY), "-O", "contact", "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[8].startswith("line 1, C_EmailAddress: error header.missing_required: ")
    assert "... and 22 more (use --format json for all)" in err
