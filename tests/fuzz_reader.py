"""Bounded fuzzing of the reading and sniffing layer (optional target, see README "Robustness").

    python -m pytest tests/fuzz_reader.py -m fuzz -q            # ~2,000 inputs per target
    CSVPREP_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz_reader.py -m fuzz -q

Any input must either be refused with a CsvprepError (one line, exit code 2 in the CLI) or be
read with every record accounted for, the same in one batch and in many. A crash found here
becomes a regression test in tests/test_hostile.py.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csvprep
from csvprep.reader import CsvReader
from csvprep.sniff import detect_dialect, detect_encoding

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("CSVPREP_FUZZ_EXAMPLES", "2000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# Byte fragments that matter to a CSV reader: separators, quotes, line ends, BOMs, NUL,
# broken UTF-8 and UTF-16, escapes, formula starts, and plain text.
TOKENS = [b",", b";", b"\t", b"|", b":", b'"', b"'", b"\\", b"\r", b"\n", b"\r\n", b"\x00", b" ",
          b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff", b"\xc3", b"\xc3\xa9", b"\xe2\x80\xa8",
          b"=", b"+1", b"-", b"@", b"a", b"bc", b"0", b"12.5", b"x@y.com", b"#", b"\x85", b"\x1a"]
CSVISH = st.lists(st.sampled_from(TOKENS), max_size=80).map(b"".join)
ANY_BYTES = st.one_of(st.binary(max_size=400), CSVISH, CSVISH.map(lambda b: b"a,b,c\n" + b))


def _read_all(data: bytes, chunk: int) -> tuple[int, list[tuple[int, str]]]:
    """(records read, [(line, code)] of bad rows) through CsvReader, batch by batch."""
    reader = CsvReader(data, chunk_bytes=chunk)
    read, bad = 0, []
    for batch in reader.batches():
        read += batch.rows.height + batch.bad.height
        bad += list(zip(batch.bad["_line"].to_list(), batch.bad["code"].to_list()))
    return read, bad


@FUZZ
@given(ANY_BYTES, st.integers(1, 64))
def test_fuzz_reader_never_crashes_and_agrees_across_batches(data: bytes, chunk: int) -> None:
    try:
        whole = _read_all(data, 1 << 20)
    except csvprep.CsvprepError as exc:
        assert str(exc) and "\n" not in str(exc)
        with pytest.raises(csvprep.CsvprepError):
            _read_all(data, chunk)
        return
    assert _read_all(data, chunk) == whole


@FUZZ
@given(ANY_BYTES)
def test_fuzz_check_accounts_for_every_row(data: bytes) -> None:
    try:
        report = csvprep.check(data)
    except csvprep.CsvprepError:
        return
    assert report.read == report.clean + report.rejected
    assert report.to_json()


@FUZZ
@given(ANY_BYTES)
def test_fuzz_sniffers(data: bytes) -> None:
    try:
        enc = detect_encoding(data)
    except csvprep.CsvprepError:
        return
    text = data[enc.bom:].decode(enc.name, errors="replace")
    dialect = detect_dialect(text)
    assert len(dialect.delimiter) == 1 and dialect.quotechar != dialect.delimiter


@settings(FUZZ, max_examples=max(50, EXAMPLES // 10))
@given(ANY_BYTES, st.booleans())
def test_fuzz_cli_never_prints_a_traceback(tmp_path_factory, data: bytes, with_object: bool) -> None:
    from click.testing import CliRunner

    from csvprep.cli import cli

    tmp = tmp_path_factory.mktemp("fuzz")
    src = tmp / "in.csv"
    src.write_bytes(data)
    args = ["--object", "contact"] if with_object else []
    result = CliRunner().invoke(cli, ["clean", str(src), "-o", str(tmp / "out.csv"), "-q", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1 and "internal error" not in result.stderr
        assert sorted(p.name for p in tmp.iterdir()) == ["in.csv"]
    else:
        assert (tmp / "out.csv").is_file()
