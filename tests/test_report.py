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
