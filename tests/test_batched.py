"""Batched processing gives the in-memory results; progress is reported, on terminals only."""
from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from csvprep import api, cli

ROOT = Path(__file__).resolve().parents[1]


def load_gen():
    spec = importlib.util.spec_from_file_location("bench_gen", ROOT / "bench" / "gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    """2,000 dirty contact rows from the benchmark generator, plus cells with line breaks and a
    key repeated far from its first occurrence (so in another batch)."""
    frame = load_gen().frame(0, 2000)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 5).then(pl.lit("Acme,\nInc. \"the\" best"))
        .otherwise(pl.col("Company")).alias("Company"))
    first = frame["Email Address"][10]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1900).then(pl.lit(first.upper())).otherwise(pl.col("Email Address"))
        .alias("Email Address"))
    path = tmp_path_factory.mktemp("dirty") / "contacts.csv"
    frame.write_csv(path)
    return path


def run_clean(src: Path, out: Path, chunk: int, progress=None):
    report = api.clean_file(src, out / "clean.csv", object="contact", rejects=out / "rejects.csv",
                            chunk_bytes=chunk, progress=progress)
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return report, files


def test_batches_give_the_in_memory_results(dirty: Path, tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one, one_files = run_clean(dirty, tmp_path / "one", 1 << 30)
    many, many_files = run_clean(dirty, tmp_path / "many", 16 << 10)  # ~13 batches
    assert one_files == many_files
    assert (one.read, one.clean, one.rejected) == (many.read, many.clean, many.rejected)
    assert one.issues.sort("line", "column", "code").equals(many.issues.sort("line", "column", "code"))
    assert one.read == 2000 and one.rejected > 0 and one.clean > 1700


def test_duplicate_keys_are_found_across_batches(dirty: Path, tmp_path: Path) -> None:
    report, _ = run_clean(dirty, tmp_path, 16 << 10)
    dups = report.issues.filter(pl.col("code") == "key.duplicate")
    # data row i starts on physical line i + 2, plus the line breaks inside earlier cells
    breaks = pl.read_csv(dirty, infer_schema=False)["Company"].str.count_matches("\n").cum_sum()
    row = dups.filter(pl.col("line") == 1902 + breaks[1899])
    assert row.height == 1
    assert f"line {12 + breaks[9]};" in row["message"][0]
    # and the in-memory API agrees
    result = api.clean(dirty, object="contact", chunk_bytes=1 << 30)
    assert result.report.issues.filter(pl.col("code") == "key.duplicate").height == dups.height


def test_progress_reports_bytes_up_to_the_file_size(dirty: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    run_clean(dirty, tmp_path, 16 << 10, progress=lambda done, total: calls.append((done, total)))
    size = dirty.stat().st_size
    assert len(calls) > 10
    assert all(total == size for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == size


def test_no_progress_bar_when_quiet_or_not_a_terminal(monkeypatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with cli.progress_bar(quiet=True) as update:
        assert update is None
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with cli.progress_bar(quiet=False) as update:
        assert update is None
    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    with cli.progress_bar(quiet=False) as update:
        assert callable(update)
        update(50, 100)
        update(100, 100)


def test_pipes_get_no_progress_output(dirty: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["clean", str(dirty), "-O", "contact", "-o", str(tmp_path / "c.csv"),
                                     "--chunk-size", "16KB"])
    assert result.exit_code == 1, result.output
    text = result.stderr if hasattr(result, "stderr") else result.output
    for marker in ("reading", "━", "eta", "MB/s", "kB/s"):
        assert marker not in text
    quiet = runner.invoke(cli.cli, ["check", str(dirty), "-O", "contact", "--format", "json", "-q"])
    assert quiet.stderr == "" and json.loads(quiet.stdout)


def test_a_key_repeated_twice_in_a_later_batch_names_the_first_batch_line(tmp_path: Path) -> None:
    rows = [f"user{i}@acme.com,Name{i}" for i in range(400)]
    rows[300] = rows[330] = "user5@acme.com,Again"  # both far from line 7, in one later batch (2 KiB chunks)
    rows[310] = rows[320] = "new@acme.com,Twice"  # repeated within that batch only
    src = tmp_path / "keys.csv"
    src.write_text("Email,First Name\n" + "\n".join(rows) + "\n")
    outs = {}
    for chunk in (1 << 30, 2 << 10):
        (tmp_path / str(chunk)).mkdir()
        report, files = run_clean(src, tmp_path / str(chunk), chunk)
        dups = report.issues.filter(pl.col("code") == "key.duplicate").select("line", "message").rows()
        outs[chunk] = (files, dups)
    assert outs[1 << 30] == outs[2 << 10]
    assert outs[2 << 10][1] == [(302, "repeats the key of line 7; the first occurrence is kept"),
                                (322, "repeats the key of line 312; the first occurrence is kept"),
                                (332, "repeats the key of line 7; the first occurrence is kept")]
    rejects = outs[2 << 10][0]["rejects.csv"].decode()
    assert rejects.count("key.duplicate (Email)") == 3
