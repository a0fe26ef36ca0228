"""csvprep.ray in local mode gives what one process gives: clean rows, rejects, issues, totals."""
from __future__ import annotations

import csv
import io
import os
import random
import re
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csvprep
from csvprep.cli import cli
from csvprep.ranges import breaks

ROOT = Path(__file__).resolve().parents[1]
# ../shared/corpus beside the checkout (a worktree under wt/ finds it one level further up)
CORPUS = next((p for p in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus")
               if p.is_dir()), ROOT.parent / "shared" / "corpus")


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray node with 2 CPUs whose workers import this tree's csvprep."""
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'csvprep[ray]'")
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    ray.init(num_cpus=2, runtime_env={"env_vars": {"PYTHONPATH": path}}, logging_level="WARNING",
             include_dashboard=False)
    import csvprep.ray as engine

    yield engine
    ray.shutdown()


def bodies(paths: list[str] | list[Path]) -> bytes:
    """The records of CSV parts, without their header lines."""
    return b"".join(Path(p).read_bytes().split(b"\n", 1)[1] for p in paths)


def single(path: Path, out: Path, **kw) -> tuple[csvprep.Report, bytes, bytes]:
    """The single-process run: report, clean records, rejects file."""
    out.mkdir(exist_ok=True)
    report = csvprep.clean_file(path, out / f"{path.stem}.csv", rejects=out / f"{path.stem}.rejects.csv", **kw)
    parts = report.outputs.get("parts") or [report.outputs["clean"]]
    return report, bodies(parts), (out / f"{path.stem}.rejects.csv").read_bytes()


def file_entry(report: csvprep.Report, path: Path) -> dict:
    return next(e for e in report.outputs["files"] if e["file"] == str(path))


def assert_same(ray_report: csvprep.Report, path: Path, ref: tuple[csvprep.Report, bytes, bytes]) -> None:
    """One file of a Ray run against its single-process run."""
    report, clean, rejects = ref
    entry = file_entry(ray_report, path)
    assert bodies(entry["parts"]) == clean
    assert Path(entry["rejects"]).read_bytes() == rejects
    issues = ray_report.issues
    if "file" in issues.columns:
        issues = issues.filter(pl.col("file") == str(path)).drop("file")
    assert issues.equals(report.issues)
    assert entry["rows"] == {"read": report.read, "clean": report.clean, "rejected": report.rejected}


def test_sample_file_cut_in_ranges(ray_local, tmp_path: Path) -> None:
    src = ROOT / "sample-data" / "contact.tsv"
    ref = single(src, tmp_path / "ref", object="contact")
    got = ray_local.clean(src, object="contact", output=tmp_path / "ray", range_bytes=300, chunk_bytes=400)
    assert got.outputs["engine"] != "ray, 1 task(s)"  # cut into several ranges
    assert_same(got, src, ref)
    assert (got.read, got.clean, got.rejected) == (ref[0].read, ref[0].clean, ref[0].rejected)
    assert (tmp_path / "ray" / "report.json").is_file()
    assert not [p for p in (tmp_path / "ray").iterdir() if p.name.startswith(".")]  # no temporary left


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".csv", ".tsv", ".txt") and p.is_file())


def test_corpus_files(ray_local, tmp_path: Path) -> None:
    files = corpus_files()
    if not files:
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    refs, readable = {}, []
    for i, path in enumerate(files):
        try:
            refs[path] = single(path, tmp_path / f"ref{i}")
        except csvprep.CsvprepError:  # refused by one process too: not part of the comparison
            continue
        readable.append(path)
    assert len(readable) >= 10
    got = ray_local.clean(readable, output=tmp_path / "ray", range_bytes=2000)
    assert int(got.outputs["engine"].split()[1]) > len(readable)  # some files were cut
    for path in readable:
        assert_same(got, path, refs[path])
    assert got.read == sum(r[0].read for r in refs.values())


# -- generated tables: multi-line cells and duplicate keys across ranges and files -------------

EMAILS = ["ann@example.com", "Bob@Example.com", "bob@example.com", "not an email", "", "c@example.org"]
CELLS = st.sampled_from(["Ann", "multi\nline", 'say "hi"\r\nthere', "a,b", "=1+2", "", " x ", "é\n\"q\""])


def table(rows: list[tuple[str, str, str]], crlf: bool) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["C_EmailAddress", "C_FirstName", "C_LastName"])
    w.writerows(rows)
    return buf.getvalue()


ROWS = st.lists(st.tuples(st.one_of(st.sampled_from(EMAILS), st.from_regex(r"u[0-9]{1,2}@example\.com", fullmatch=True)),
                          CELLS, CELLS), min_size=1, max_size=60)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(files=st.lists(ROWS, min_size=1, max_size=3), crlf=st.booleans(), range_bytes=st.integers(60, 400))
def test_generated_tables_as_one_process(ray_local, tmp_path_factory, files, crlf, range_bytes) -> None:
    """Files of the same table read in that order are, for one process, one file: its lines
    map to (file, line); cross-file duplicates name the first file's line."""
    tmp = tmp_path_factory.mktemp("gen")
    paths, offsets, whole, start = [], [], [], 0
    for i, rows in enumerate(files):
        text = table(rows, crlf)
        p = tmp / f"part{i}.csv"
        p.write_bytes(text.encode())
        paths.append(p)
        offsets.append(start)  # file i's line L is line start + L of the joined file
        whole.append(text.split("\r\n" if crlf else "\n", 1)[1])
        start += breaks(text.encode()) - 1
    joined = tmp / "joined.csv"
    joined.write_bytes((table([], crlf) + "".join(whole)).encode())

    def where(line: int) -> tuple[int, int]:  # a line of the joined file -> (file, line)
        i = max(k for k, off in enumerate(offsets) if line >= off + 2)
        return i, line - offsets[i]

    got = ray_local.clean(paths, object="contact", output=tmp / "ray", range_bytes=range_bytes, chunk_bytes=500)
    ref = csvprep.clean_file(joined, tmp / "ref.csv", object="contact", chunk_bytes=300)
    assert (got.read, got.clean, got.rejected) == (ref.read, ref.clean, ref.rejected)
    entries = got.outputs["files"]
    assert bodies([p for e in entries for p in e["parts"]]) == bodies([tmp / "ref.csv"])
    ref_rejects = pl.read_csv(tmp / "ref.rejects.csv", infer_schema=False)
    mine = pl.concat([pl.read_csv(e["rejects"], infer_schema=False).with_columns(_file=pl.lit(i))
                      for i, e in enumerate(entries)])
    mapped = [where(int(x)) for x in ref_rejects["_line"]]
    assert [(f, line) for f, line in mapped] == [(f, int(x)) for f, x in zip(mine["_file"], mine["_line"])]
    assert ref_rejects.drop("_line").equals(mine.drop("_line", "_file"))

    def first_of(message: str, file: int) -> tuple[int, int]:
        m = re.search(r"line (\d+)(?: of (\S+))?;", message)
        assert m
        return (by_name[m.group(2)], int(m.group(1))) if m.group(2) else (file, int(m.group(1)))

    names = {str(p): i for i, p in enumerate(paths)}
    by_name = {p.name: i for i, p in enumerate(paths)}
    ray_issues = got.issues if "file" in got.issues.columns else got.issues.with_columns(file=pl.lit(str(paths[0])))
    a = sorted((names[r["file"]], r["line"], r["column"], r["code"], r["value"], r["fixed"],
                first_of(r["message"], names[r["file"]]) if r["code"] == "key.duplicate" else r["message"])
               for r in ray_issues.iter_rows(named=True) if r["line"] is not None)
    b = sorted((*where(r["line"]), r["column"], r["code"], r["value"], r["fixed"],
                where(int(re.search(r"line (\d+);", r["message"]).group(1)))
                if r["code"] == "key.duplicate" else r["message"])
               for r in ref.issues.iter_rows(named=True) if r["line"] is not None)
    assert a == b


# -- quoting that defeats the quote count: the file is read by one task, and says so -----------

def test_stray_quote_falls_back_to_one_task(ray_local, tmp_path: Path) -> None:
    rows = ["C_EmailAddress,C_FirstName,C_LastName"]
    rows += [f"u{i}@example.com,Ann,Lee" for i in range(40)]
    rows += ['u99@example.com,5\'11",tall']  # a quote the reader keeps as text: the count is off by one
    rows += [f"v{i}@example.com,\"two\nlines\",x" for i in range(40)]  # the count is now wrong in every cell
    src = tmp_path / "stray.csv"
    src.write_text("\n".join(rows) + "\n")
    ref = single(src, tmp_path / "ref", object="contact")
    got = ray_local.clean(src, object="contact", output=tmp_path / "ray", range_bytes=200)
    assert_same(got, src, ref)
    assert "one task" in got.outputs["notes"][0]


# -- a worker that dies mid-run ---------------------------------------------------------------

def test_worker_killed_mid_run_same_result(ray_local, tmp_path: Path) -> None:
    src = tmp_path / "dups.csv"
    rng = random.Random(5)
    lines = ["C_EmailAddress,C_FirstName"] + [f"u{rng.randrange(300)}@example.com,\"n\n{i}\"" for i in range(2000)]
    src.write_text("\n".join(lines) + "\n")
    calm = ray_local.clean(src, object="contact", output=tmp_path / "calm", range_bytes=4000)
    marker = tmp_path / "died"

    def die_once(path: str, k: int) -> None:  # runs on the worker: the first attempt of range 2 dies
        if k == 2 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)

    hit = ray_local.clean(src, object="contact", output=tmp_path / "hit", range_bytes=4000, on_task=die_once)
    assert marker.exists()  # a worker did die
    assert hit.issues.equals(calm.issues)
    assert (hit.read, hit.clean, hit.rejected) == (calm.read, calm.clean, calm.rejected) == (2000, calm.clean, 2000 - calm.clean)
    assert bodies(hit.outputs["parts"]) == bodies(calm.outputs["parts"])
    assert Path(hit.outputs["rejects"][0]).read_bytes() == Path(calm.outputs["rejects"][0]).read_bytes()


# -- a file of about 200 MB in many ranges ------------------------------------------------------

@pytest.mark.slow
def test_large_file_many_ranges(ray_local, tmp_path: Path) -> None:
    n = 3_600_000
    i = pl.int_range(0, n, eager=True)
    frame = pl.DataFrame({"i": i}).select(
        C_EmailAddress=pl.when(pl.col("i") % 97 == 0).then(pl.lit("broken"))
        .otherwise(pl.format("user{}@example.com", (pl.col("i") * 2654435761) % (n // 2))),  # about half repeat
        C_FirstName=pl.when(pl.col("i") % 1000 == 0).then(pl.lit('Ann\n"Marie"'))
        .otherwise(pl.format("first{}", pl.col("i") % 5000)),
        C_LastName=pl.format("last {}", pl.col("i") % 777),
        C_City=pl.when(pl.col("i") % 3 == 0).then(pl.lit("Paris")).otherwise(pl.lit("Springfield, IL")))
    src = tmp_path / "big.csv"
    frame.write_csv(src)
    assert src.stat().st_size > 190 << 20
    ref = single(src, tmp_path / "ref", object="contact")
    got = ray_local.clean(src, object="contact", output=tmp_path / "ray", range_bytes=16 << 20)
    assert int(got.outputs["engine"].split()[1]) >= 10
    assert_same(got, src, ref)
    assert ref[0].rejected > n // 3  # broken emails and duplicates across ranges


# -- the command line ---------------------------------------------------------------------------

def test_cli_engine_ray(ray_local, tmp_path: Path) -> None:
    src = ROOT / "sample-data" / "contact.tsv"
    res = CliRunner().invoke(cli, ["clean", str(src), str(src), "--engine", "ray", "-O", "contact",
                                   "-o", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 1, res.output  # the second copy repeats every key of the first
    report = (tmp_path / "out" / "report.json").read_text()
    assert "repeats the key of line 2 of contact.tsv" in report
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "contact-1.part-00001.csv", "contact-1.rejects.csv", "contact-2.part-00001.csv", "contact-2.rejects.csv",
        "report.json"]


def test_cli_engine_ray_without_ray(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when it is not installed
    src = ROOT / "sample-data" / "contact.tsv"
    res = CliRunner().invoke(cli, ["clean", str(src), "--engine", "ray", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "pip install 'csvprep[ray]'" in res.output


def test_cli_several_files_need_ray(tmp_path: Path) -> None:
    src = ROOT / "sample-data" / "contact.tsv"
    res = CliRunner().invoke(cli, ["clean", str(src), str(src), "-o", str(tmp_path / "out.csv")])
    assert res.exit_code == 2
    assert "--engine ray" in res.output


def test_unreadable_source_is_csvprep_error(ray_local, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(csvprep.InputError, match="empty"):
        ray_local.clean([ROOT / "sample-data" / "contact.tsv", empty], output=tmp_path / "out")


def test_decoding_error_names_its_line_in_a_range(ray_local, tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_bytes(b"a,b\n" + b"x,y\n" * 300_000 + b"x,\xff\n" + b"x,y\n" * 10)  # past the sniffed 1 MB
    with pytest.raises(csvprep.EncodingError) as single_error:
        csvprep.check(src)
    with pytest.raises(csvprep.EncodingError) as ray_error:
        ray_local.clean(src, output=tmp_path / "out", range_bytes=200_000)
    assert "line 300002" in str(single_error.value)
    assert str(ray_error.value) == str(single_error.value)
