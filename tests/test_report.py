"""The report: JSON text and dict agree, counts and text summary."""
from __future__ import annotations

import json

import polars as pl

import csvprep


def test_json_text_equals_the_dict_shape_with_awkward_values():
    df = pl.DataFrame({"Email": ["a@x.com", "bad\x00", "=cmd|' /C calc'!A0", "Ünïcode\u2028@x"],
                       "Phone": ["303 928 2134", '"quoted"', "12", None]})
    report = csvprep.check(df, object="contact")
    from_text = json.loads(report.to_json())
    assert from_text == json.loads(json.dumps(report.to_dict()))
    assert from_text["rows"] == {"read": 4, "clean": 1, "rejected": 3}
    assert {i["code"] for i in from_text["issues"]} >= {"email.invalid", "phone.invalid"}
    assert json.loads(report.to_json(indent=None)) == from_text


def test_json_written_in_slices_is_the_same_json():
    import io

    df = pl.DataFrame({"Email": ["a@x.com", "bad", "c@", None, "e@x.com"], "Phone": ["12", "x", "303 928 2134", "", "1"]})
    report = csvprep.check(df, object="contact")
    assert report.issues.height > 3
    for rows in (1, 2, 3, 1000):
        buf = io.BytesIO()
        report.write_json(buf, slice_rows=rows)
        assert json.loads(buf.getvalue()) == json.loads(json.dumps(report.to_dict()))
    empty = csvprep.check(pl.DataFrame({"Email": ["a@x.com"]}), object="contact")
    assert json.loads(empty.to_json())["issues"] == []


def test_counts_and_text_summary(sample_contact):
    report = csvprep.check(sample_contact, object="contact")
    assert report.counts() == {"phone.unassigned": 4, "domain.mismatch": 2, "phone.malformed": 1}
    text = report.to_text(limit=3)
    assert "rows: 10 read, 10 clean, 0 rejected" in text
    assert "... and 4 more" in text


def test_issues_spilled_to_disk_give_the_same_report(tmp_path, monkeypatch):
    # a run's issues are kept compressed, and past SPILL_BYTES in a temporary file: the report,
    # its counts and its summary are the same whether they stayed in memory or not
    import csvprep.issues as issues_mod

    body = ["C_EmailAddress,C_FirstName,C_BusPhone,C_Website1"]
    for i in range(3000):
        email = f"p{i}@x.com" if i % 7 else f"not an email {i}"
        body.append(f"{email},P{i},{'555-0100' if i % 5 == 0 else ''},{'x.com' if i % 3 == 0 else ''}")
    src = tmp_path / "c.csv"
    src.write_text("\n".join(body) + "\n", encoding="utf-8")

    def run(spill: int):
        monkeypatch.setattr(issues_mod, "SPILL_BYTES", spill)
        out = tmp_path / f"out{spill}"
        out.mkdir()
        rep = csvprep.clean_file(src, out / "clean.csv", object="contact", report_path=out / "r.json",
                                 chunk_bytes=4096)
        return rep, (out / "r.json").read_text(encoding="utf-8")

    kept, kept_json = run(1 << 30)
    spilled, spilled_json = run(1)
    assert spilled.store.spilled and not kept.store.spilled
    assert len(spilled.store.parts) > 10
    def same(text: str, spill: int) -> str:  # the output paths differ
        return text.replace(f"{tmp_path}/out{spill}/", "")

    assert same(spilled_json, 1) == same(kept_json, 1 << 30)
    assert spilled.counts() == kept.counts() and spilled.errors == kept.errors > 0 and spilled.warnings == kept.warnings
    assert same(spilled.to_text(), 1) == same(kept.to_text(), 1 << 30)
    assert spilled.issues.equals(kept.issues)
    full = json.loads(kept_json)["issues"]
    assert len(full) == spilled.store.height
    # the summary streams the store: the same lines as sorting the whole frame
    assert same(spilled.to_text(limit=5), 1) == same(kept.to_text(limit=5), 1 << 30)
    tail = list(spilled.store.frames(start=len(full) - 3))
    assert pl.concat(tail)["line"].to_list() == [i["line"] for i in full[-3:]]
    # the reference: the whole frame sorted (errors first, file and header issues first, file order)
    whole = pl.col("line").is_null() | pl.col("code").cast(pl.String).str.starts_with("header.")
    ref = kept.issues.with_row_index("_i").sort([pl.col("severity") != "error", ~whole, "_i"]).head(5)
    shown = [t for t in spilled.to_text(limit=5).splitlines() if t.startswith(("line ", "file"))]
    assert [t.split(":")[0] for t in shown] == [f"line {r['line']}, {r['column']}" for r in ref.iter_rows(named=True)]


def test_no_room_for_the_working_files_is_one_clear_error(tmp_path, monkeypatch):
    # the issues (and key texts) go to the temporary folder: when it cannot be written, the run
    # stops with an OutputError naming the folder (the CLI's one line and exit code 2)
    import tempfile

    import pytest

    import csvprep.issues as issues_mod
    from csvprep.errors import OutputError

    src = tmp_path / "c.csv"
    src.write_text("C_EmailAddress,C_FirstName\n" + "".join(f"bad {i},P{i}\n" for i in range(50)), encoding="utf-8")
    monkeypatch.setattr(issues_mod, "SPILL_BYTES", 1)
    missing = tmp_path / "no-such-folder"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    with pytest.raises(OutputError, match="cannot write csvprep's working files in .*no-such-folder.*TMPDIR"):
        csvprep.clean_file(src, tmp_path / "clean.csv", object="contact")
    assert not (tmp_path / "clean.csv").exists()
