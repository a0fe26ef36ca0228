"""The marketing contact rules: email, phone, url, text, key duplicates, cross-field warnings."""
from __future__ import annotations

import polars as pl
import pytest

import csvprep

HEADER = "C_EmailAddress,C_FirstName,C_BusPhone,C_Website1,C_Title"


def run(tmp_path, body: str, **kw):
    p = tmp_path / "c.csv"
    p.write_text(HEADER + "\n" + body, encoding="utf-8")
    return csvprep.clean(p, object="contact", **kw)


def codes(result, line=None):
    issues = result.report.issues
    if line is not None:
        issues = issues.filter(pl.col("line") == line)
    return sorted(issues["code"].to_list())


def test_seed_sample_end_to_end(sample_contact):
    result = csvprep.clean(sample_contact, object="contact")
    r = result.report
    assert (r.read, r.clean, r.rejected) == (10, 10, 0)
    assert r.ok
    line4 = r.issues.filter(pl.col("line") == 4)
    assert "phone.malformed" in line4["code"].to_list()
    assert line4.filter(pl.col("code") == "phone.malformed")["value"].item() == "444) 444-1234"
    assert line4.filter(pl.col("code") == "phone.malformed")["fixed"].item() == "+14444441234"
    mismatches = r.issues.filter(pl.col("code") == "domain.mismatch")
    assert mismatches["line"].to_list() == [6, 7]
    phones = result.clean["C_BusPhone"].drop_nulls().to_list()
    assert phones and all(p.startswith("+1") and p[1:].isdigit() for p in phones)
    assert result.clean.columns == ["C_EmailAddress", "C_FirstName", "C_LastName", "C_Title",
                                    "C_Company", "C_BusPhone", "C_Website1"]


def test_email_trimmed_lowercased_and_invalid_rejected(tmp_path):
    res = run(tmp_path, " Ann@Example.COM ,Ann,,,\nnot-an-email,Bob,,,\nx@y..com,Cy,,,\n")
    assert res.clean["C_EmailAddress"].to_list() == ["ann@example.com"]
    assert res.rejects["_line"].to_list() == [3, 4]
    assert codes(res, 3) == ["email.invalid"] and codes(res, 4) == ["email.invalid"]
    assert "email.invalid (C_EmailAddress)" in res.rejects["_reasons"][0]
    assert res.rejects["C_EmailAddress"].to_list() == ["not-an-email", "x@y..com"]  # original values


def test_missing_email_is_required(tmp_path):
    res = run(tmp_path, ",Ann,,,\n")
    assert codes(res) == ["field.required"]
    assert res.report.rejected == 1


def test_duplicate_keys_keep_the_first_and_point_at_it(tmp_path):
    res = run(tmp_path, "a@x.com,A,,,\nb@x.com,B,,,\nA@X.com,C,,,\n")
    dup = res.report.issues.filter(pl.col("code") == "key.duplicate")
    assert dup["line"].to_list() == [4]
    assert "line 2" in dup["message"].item()
    assert res.clean["C_FirstName"].to_list() == ["A", "B"]


def test_duplicate_keys_found_across_batches(tmp_path):
    body = "".join(f"u{i}@x.com,N{i},,,\n" for i in range(300)) + "u5@x.com,again,,,\n"
    res = run(tmp_path, body, chunk_bytes=256)
    dup = res.report.issues.filter(pl.col("code") == "key.duplicate")
    assert dup["line"].to_list() == [302] and "line 7" in dup["message"].item()


def test_phone_rules(tmp_path):
    body = ("a@x.com,,(303) 555-0100 x12,,\n"   # possible, unassigned 555-01xx? kept
            "b@x.com,,303-928-2134,,\n"          # valid
            "c@x.com,,12,,\n"                    # not possible: error
            "d@x.com,,(303 928-2134,,\n"         # unbalanced: warning, fixed
            "e@x.com,,+44 20 7946 0958,,\n"      # international
            "f@x.com,,1-800-FLOWERS,,\n")        # vanity
    res = run(tmp_path, body)
    phone = dict(zip(res.report.issues["line"], res.report.issues["code"]))
    clean = dict(zip(res.clean["C_EmailAddress"], res.clean["C_BusPhone"]))
    assert clean["b@x.com"] == "+13039282134"
    assert clean["a@x.com"].endswith(" ext. 12")
    assert "c@x.com" not in clean and phone[4] == "phone.invalid"
    assert clean["d@x.com"] == "+13039282134" and "phone.malformed" in codes(res, 5)
    assert clean["e@x.com"] == "+442079460958"
    assert clean["f@x.com"] == "+18003569377" and "phone.vanity" in codes(res, 7)


def test_phone_region_and_format_overrides(tmp_path):
    res = run(tmp_path, "a@x.com,,020 7946 0958,,\n", region="GB", phone_format="INTERNATIONAL")
    assert res.clean["C_BusPhone"].to_list() == ["+44 20 7946 0958"]


def test_url_rules(tmp_path):
    body = "a@acme.com,,,acme.com,\nb@acme.com,,,HTTP://WWW.Acme.COM/Path,\nc@acme.com,,,ftp://acme.com,\n"
    res = run(tmp_path, body)
    assert res.clean["C_Website1"].to_list() == ["https://acme.com", "http://www.acme.com/Path"]
    assert codes(res, 4) == ["url.invalid"]
    assert "url.scheme_added" in codes(res, 2)


def test_text_trimmed_collapsed_and_length_checked(tmp_path):
    res = run(tmp_path, f"a@x.com,  Ann   Marie ,,,\nb@x.com,{'x' * 101},,,\n")
    assert res.clean["C_FirstName"].to_list() == ["Ann Marie"]
    assert codes(res, 3) == ["field.too_long"]


def test_header_aliases_unknown_columns_and_suggestions(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("E-mail Address,first name,Business Phone,Websit,Favourite Colour\na@x.com,Ann,303-928-2134,x.com,blue\n")
    res = csvprep.clean(p, object="contact")
    assert res.clean.columns == ["C_EmailAddress", "C_FirstName", "C_BusPhone"]
    unknown = res.report.issues.filter(pl.col("code") == "header.unknown")
    assert unknown["column"].to_list() == ["Websit", "Favourite Colour"]
    assert "did you mean 'C_Website1'" in unknown["message"][0]
    assert unknown["line"].to_list() == [1, 1]


def test_missing_required_column_fails_the_whole_file(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("C_FirstName\nAnn\nBob\n")
    res = csvprep.clean(p, object="contact")
    assert not res.report.ok
    assert "header.missing_required" in res.report.issues["code"].to_list()
    assert (res.report.clean, res.report.rejected) == (0, 2)


def test_rows_are_never_lost(tmp_path):
    body = "a@x.com,A,,,\nbad,B,,,\n\nc@x.com,C,,\nd@x.com,D,,,,extra\na@x.com,dup,,,\n"
    res = run(tmp_path, body)
    r = res.report
    assert r.read == 6 == r.clean + r.rejected
    assert sorted(res.rejects["_line"].to_list()) == [3, 4, 5, 6, 7]
    raw = dict(zip(res.rejects["_line"], res.rejects["_raw"]))
    assert raw[5] == "c@x.com,C,," and raw[6] == "d@x.com,D,,,,extra"


def test_dataframe_in_dataframes_out():
    df = pl.DataFrame({"Email": ["A@X.com", "bad"], "Phone": ["303 928 2134", None]})
    res = csvprep.clean(df, object="contact")
    assert res.clean.to_dicts() == [{"C_EmailAddress": "a@x.com", "C_BusPhone": "+13039282134"}]
    assert res.rejects["_line"].to_list() == [3]


def test_structure_only_keeps_every_column_as_text(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("a,b\n1, x \n2\n")
    res = csvprep.clean(p)
    assert res.report.object is None
    assert res.clean.to_dicts() == [{"a": "1", "b": " x "}]
    assert res.report.as_rows() == [[3, None, "row.missing_cells"]]


def test_to_pandera_validates_pipeline_frames():
    import pandera.errors

    schema = csvprep.load_schema("contact").to_pandera()
    good = pl.DataFrame({"C_EmailAddress": ["a@x.com"], "C_BusPhone": ["+13039282134"]})
    schema.validate(good)
    bad = pl.DataFrame({"C_EmailAddress": ["a@x.com", "a@x.com"], "C_BusPhone": ["303", None]})
    with pytest.raises(pandera.errors.SchemaErrors) as exc:
        schema.validate(bad, lazy=True)
    checks = set(exc.value.failure_cases["check"].to_list())
    assert "phone.invalid" in checks


def test_domain_of_an_address_with_letters_beyond_ascii(tmp_path):
    # the email's domain is cut at its '@' counted in characters, whatever the local part holds
    res = run(tmp_path, "åsa.حسن0@wernham.org,Åsa,,https://www.wernham.org/,\n"
                        "søren@globex.com,Søren,,https://www.initech.com/,\n")
    mismatches = res.report.issues.filter(pl.col("code") == "domain.mismatch")
    assert mismatches["line"].to_list() == [3]
    assert mismatches["message"].item() == "the website's domain (initech.com) differs from the email's domain (globex.com)"
