"""Hostile and broken input: a clear one-line message and exit code 2, or a full accounting; never a traceback."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep import writer
from csvprep.cli import cli
from csvprep.report import Report
from csvprep.reader import SAMPLE_BYTES
from conftest import write


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def fails(*args: str) -> str:
    """Run the CLI expecting exit code 2 and one line on stderr; return that line."""
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_nul_bytes_in_cells_are_kept_and_counted(tmp_path):
    src = write(tmp_path, "nul.csv", b"a,b,c\n1,\x00,3\n4,5\x006,7\n")
    report = csvprep.check(src)
    assert (report.read, report.clean) == (2, 2)
    out = tmp_path / "out.csv"
    assert run("clean", str(src), "-o", str(out), "-q").exit_code == 0
    assert pl.read_csv(out, infer_schema=False).height == 2


def test_a_file_of_nul_bytes_is_not_csv(tmp_path):
    src = write(tmp_path, "zeros.csv", b"\x00" * 5000)
    assert "empty" in fails("check", str(src)) or "binary" in fails("check", str(src))


def test_mostly_binary_is_refused(tmp_path):
    src = write(tmp_path, "bin.csv", bytes(range(256)) * 40)
    assert "binary" in fails("check", str(src))


def test_fifty_megabyte_single_field(tmp_path):
    big = 50 * 1024 * 1024
    src = tmp_path / "big.csv"
    with src.open("wb") as fh:
        fh.write(b'id,blob,n\n1,"')
        fh.write(b"x" * (big // 2) + b"\n,\"\"" + b"y" * (big // 2))  # a line break, a delimiter and a quote inside
        fh.write(b'",2\n3,small,4\n')
    out = tmp_path / "out.csv"
    report = csvprep.clean_file(src, out, chunk_bytes=8 << 20)
    assert (report.read, report.clean, report.rejected) == (2, 2, 0)
    frame = pl.read_csv(out, infer_schema=False)
    assert frame["id"].to_list() == ["1", "3"] and frame["n"].to_list() == ["2", "4"]
    assert len(frame["blob"][0]) == big + 3  # "" inside quotes is one quote
    assert frame["blob"][0].startswith("xxx") and "\n,\"y" in frame["blob"][0]


def test_fifty_megabyte_unterminated_field_is_one_rejected_row(tmp_path):
    src = tmp_path / "open.csv"
    with src.open("wb") as fh:
        fh.write(b'id,blob\n1,ok\n2,"' + b"z" * (50 * 1024 * 1024) + b"\n")
    report = csvprep.check(src, chunk_bytes=16 << 20)
    assert (report.read, report.clean, report.rejected) == (2, 1, 1)
    assert report.as_rows() == [[3, None, "row.unterminated_quote"]]


def test_file_of_only_delimiters(tmp_path):
    src = write(tmp_path, "commas.csv", ",,,,\n,,,,\n,,,,\n")
    message = fails("check", str(src))
    assert "no header" in message


def test_only_a_header(tmp_path):
    src = write(tmp_path, "header.csv", "email,name\n")
    checked = run("check", str(src), "--format", "json")
    assert checked.exit_code == 0
    assert json.loads(checked.stdout)["rows"] == {"read": 0, "clean": 0, "rejected": 0}
    out = tmp_path / "out.csv"
    assert run("clean", str(src), "-o", str(out), "-q").exit_code == 0
    assert out.read_text() == "email,name\n"


@pytest.mark.parametrize("data, expected", [
    ("a,b,c\n1,2,3\n4,5", [[3, None, "row.missing_cells"]]),
    ('a,b,c\n1,2,3\n4,5,"six', [[3, None, "row.unterminated_quote"]]),
    ('a,b,c\n1,2,3\n4,5,"six\nseven', [[3, None, "row.unterminated_quote"]]),
    ("a,b,c\r\n1,2,3\r\n4,5,6\r", []),
    ("a,b,c\n1,2,3\n\n\n", [[3, None, "row.blank"], [4, None, "row.blank"]]),
])
def test_truncated_final_line(tmp_path, data, expected):
    for chunk in (1 << 20, 5):
        report = csvprep.check(write(tmp_path, "t.csv", data), chunk_bytes=chunk)
        assert report.as_rows() == expected
        assert report.read == report.clean + report.rejected


def _late_bad_byte(tmp_path: Path, crlf: bool = False) -> tuple[Path, int]:
    nl = b"\r\n" if crlf else b"\n"
    row = "é,ok,1".encode() + nl
    n = SAMPLE_BYTES // len(row) + 1000  # well past the sample the encoding is guessed from
    src = tmp_path / "late.csv"
    src.write_bytes(b"a,b,c" + nl + row * n + b"bad,\xff,2" + nl + row * 10)
    return src, n + 2


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize("chunk", ["32MB", "64KB", "100003B"])
def test_invalid_utf8_after_the_sample_names_its_line_and_leaves_no_output(tmp_path, crlf, chunk):
    src, line = _late_bad_byte(tmp_path, crlf)
    message = fails("check", str(src), "--chunk-size", chunk)
    assert f"byte 0xff on line {line} " in message and "--encoding" in message
    out = tmp_path / "out" / "clean.csv"
    out.parent.mkdir()
    message = fails("clean", str(src), "-o", str(out), "--report", str(out.parent / "r.json"), "--chunk-size", chunk)
    assert f"line {line} " in message
    assert leftovers(out.parent, set()) == []


def test_a_directory_as_input(tmp_path):
    assert "is a directory" in fails("check", str(tmp_path))
    assert "is a directory" in fails("clean", str(tmp_path), "-o", str(tmp_path / "o.csv"))
    assert leftovers(tmp_path, set()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_input_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "not a regular file" in fails("check", str(fifo))
    assert "not a regular file" in fails("clean", str(fifo), "-o", str(tmp_path / "o.csv"))
    assert leftovers(tmp_path, {"pipe.csv"}) == []


def test_missing_input(tmp_path):
    assert "no such file" in fails("check", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize("option", ["-o", "--rejects", "--report"])
def test_output_equal_to_input_is_refused_and_the_input_kept(tmp_path, option):
    src = write(tmp_path, "in.csv", "a,b\n1,2\n")
    args = ["clean", str(src), "-o", str(tmp_path / "o.csv")]
    args = [*args, option, str(src)] if option != "-o" else ["clean", str(src), "-o", str(src)]
    assert "overwrite the input" in fails(*args)
    assert src.read_text() == "a,b\n1,2\n"
    assert leftovers(tmp_path, {"in.csv"}) == []


def test_output_equal_to_input_through_a_symlink(tmp_path):
    src = write(tmp_path, "in.csv", "a,b\n1,2\n")
    (tmp_path / "link.csv").symlink_to(src)
    assert "overwrite the input" in fails("clean", str(src), "-o", str(tmp_path / "link.csv"))
    assert src.read_text() == "a,b\n1,2\n"


def test_output_folder_missing_or_a_file(tmp_path):
    src = write(tmp_path, "in.csv", "a,b\n1,2\n")
    assert "does not exist" in fails("clean", str(src), "-o", str(tmp_path / "no" / "o.csv"))
    assert "does not exist" in fails("clean", str(src), "-o", str(src / "o.csv"))
    assert leftovers(tmp_path, {"in.csv"}) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_output_folder_not_writable(tmp_path):
    src = write(tmp_path, "in.csv", "a,b\n1,2\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "cannot write" in fails("clean", str(src), "-o", str(locked / "o.csv"))
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("target", ["clean", "rejects", "report"])
def test_a_write_failure_mid_run_leaves_no_partial_output(tmp_path, monkeypatch, target):
    """A full disk while writing: one line, exit 2, and none of the three files left behind."""
    src = tmp_path / "in.csv"
    src.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(3000)) + "1,2,3\n")
    real_sink_write = writer.CsvSink._write
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def full_disk(self, frame, header):
        if not header and self.file.path.name.startswith(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_sink_write(self, frame, header)

    real_write_bytes = writer.CsvSink.write_bytes

    def full_disk_bytes(self, data, rows):  # clean rows arrive already encoded
        if self.file.path.name.startswith(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_bytes(self, data, rows)

    def report_fails(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if target == "report":
        monkeypatch.setattr(Report, "write_json", report_fails)
    else:
        monkeypatch.setattr(writer.CsvSink, "_write", full_disk)
        monkeypatch.setattr(writer.CsvSink, "write_bytes", full_disk_bytes)
    message = fails("clean", str(src), "-o", str(out_dir / "clean.csv"), "--rejects", str(out_dir / "rejects.csv"),
                    "--report", str(out_dir / "report.json"), "--chunk-size", "4KB")
    assert "No space left" in message
    assert leftovers(out_dir, set()) == []


def test_a_rejects_file_can_be_checked_and_cleaned_again(tmp_path):
    """Found by fuzzing: a header named _line, _reasons or _raw clashed with csvprep's own columns.
    A rejects file given back is now recognised (tests/test_rerun.py): its own columns are not
    data, the ragged row is read from `_raw` and keeps its original line."""
    src = write(tmp_path, "in.csv", "a,b\n1,2\n3\n")
    out = tmp_path / "out.csv"
    assert run("clean", str(src), "-o", str(out), "-q").exit_code == 1
    rejects = tmp_path / "out.rejects.csv"
    report = csvprep.check(rejects)
    assert report.read == 1
    assert report.as_rows() == [[3, None, "row.missing_cells"]]
    again = tmp_path / "again.csv"
    assert run("clean", str(rejects), "-o", str(again), "-q").exit_code == 1
    assert pl.read_csv(again, infer_schema=False).columns == ["a", "b"]


@pytest.mark.parametrize("name", ["*", "^a$", "^.*$"])
def test_header_names_polars_reads_as_patterns(tmp_path, name):
    """Found by fuzzing (a file holding just `*`): pl.col("*") selects every column, pl.col("^a$") none."""
    src = write(tmp_path, "p.csv", f'"{name}",a,b\n1,2,3\n4,5\n')
    result = csvprep.clean(src)
    assert result.clean.columns == [f"{name}_1", "a", "b"]
    assert result.clean.rows() == [("1", "2", "3")]
    assert result.rejects["_line"].to_list() == [3]
    assert run("check", str(write(tmp_path, "star.csv", name))).exit_code == 0


def test_an_unpaired_quote_is_a_warning_and_the_row_is_kept(tmp_path):
    src = write(tmp_path, "q.csv", 'name,height,n\nAnn,5\'11",1\nBob,"6\'0""",2\n')
    result = csvprep.clean(src)
    assert result.report.as_rows() == [[2, None, "row.stray_quote"]]
    assert result.clean["height"].to_list() == ["5'11\"", "6'0\""]


@pytest.mark.parametrize("data", [b"\xfe\n1\n", b"\xff\xfe\n", b"\xef\xbb\xbf\xef\n"])
def test_bom_bytes_alone_are_text_not_an_empty_file(tmp_path, data):
    """Found by the property tests: a cp1252 header "þ" (0xFE) was taken for a BOM and the file for empty."""
    report = csvprep.check(write(tmp_path, "b.csv", data), encoding="cp1252")
    assert report.read == report.clean + report.rejected


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xef\xbb\xbf\r\n\r\n", b"  \n\t\n"])
def test_empty_files_and_lone_boms_are_empty(tmp_path, data):
    assert "empty" in fails("check", str(write(tmp_path, "e.csv", data)))


def test_output_folder_refusing_new_files(tmp_path, monkeypatch):
    """What a read-only folder does (simulated: the tests may run as root, who may write anywhere)."""
    src = write(tmp_path, "in.csv", "a,b\n1,2\n")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(writer.tempfile, "mkstemp", denied)
    message = fails("clean", str(src), "-o", str(tmp_path / "o.csv"))
    assert "cannot write in" in message and "Permission denied" in message
    assert leftovers(tmp_path, {"in.csv"}) == []
