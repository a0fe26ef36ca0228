"""Differential test: the email type against email-validator (verdict and the normalised value written)."""
from __future__ import annotations

import pytest
from diffkit import BATCH, diff_settings, errors, run_type
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st


def ref_email(text: str | None, smtputf8: bool) -> tuple[str | None, bool]:
    """README: trimmed, lower-cased, then email-validator's verdict and normalised form."""
    t = (text or "").strip().lower()
    if not t:
        return None, False
    try:
        return validate_email(t, check_deliverability=False, allow_smtputf8=smtputf8).normalized, False
    except EmailNotValidError:
        return None, True


def punycode(label: str) -> str:
    try:
        return "xn--" + label.encode("punycode").decode("ascii") if not label.isascii() else label
    except UnicodeError:
        return label


ascii_local = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789._%+-!#'", min_size=1, max_size=12)
intl_local = st.text("abcäöüñçßéАБВяΣσ例ｅ", min_size=1, max_size=8)
labels = st.one_of(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12),
    st.text("abcüöäéñßİIÜÉΣ例え中国ｅｘａｍ", min_size=1, max_size=8),
    st.sampled_from(["bücher", "BÜCHER", "例え", "中国", "ｅｘａｍｐｌｅ", "straße", "münchen", "xn--bcher-kva",
                     "xn--", "xn--zz", "a--b", "-a", "a-"]),
)
tlds = st.sampled_from(["com", "de", "jp", "cn", "org", "ch", "xn--fiqs8s", "ｃｏｍ", "DE", "c0m", "1", "local",
                        "invalid", "example", "museum"])
dots = st.sampled_from([".", ".", ".", "．", "。", ".."])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    local = draw(st.one_of(ascii_local, ascii_local, intl_local))
    parts = draw(st.lists(labels, min_size=1, max_size=3))
    if draw(st.booleans()):
        parts = [punycode(p) for p in parts]
    domain = ""
    for p in parts:
        domain += p + draw(dots)
    domain += draw(tlds)
    at = draw(st.sampled_from(["@", "@", "@", "@@", "＠", ""]))
    return draw(st.sampled_from(["", "", " "])) + local + at + domain


values = st.one_of(addresses(), addresses(), addresses(), st.text(max_size=20),
                   st.sampled_from(["anna@bücher.de", "anna@xn--bcher-kva.de", "Anna@BÜCHER.DE", "anna@例え.jp",
                                    "anna@ｅｘａｍｐｌｅ．ｃｏｍ", "ａｎｎａ@example.com", "a@b.com",
                                    "x" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com",
                                    "anna@" + "ü" * 60 + ".de"]))
batch = st.lists(values, min_size=1, max_size=BATCH)


@pytest.mark.parametrize("smtputf8", [True, False])
@diff_settings()
@given(batch)
def test_email_agrees_with_email_validator(smtputf8: bool, texts: list[str]) -> None:
    got = run_type("email", texts, allow_smtputf8=smtputf8)
    bad = []
    for t, (value, codes) in zip(texts, got):
        want, want_error = ref_email(t, smtputf8)
        if bool(errors(codes)) != want_error or (not want_error and value != want):
            bad.append((t, value, sorted(codes), want, want_error))
    assert bad == []


def test_idn_and_punycode_are_one_key(tmp_path) -> None:
    import csvprep

    data = tmp_path / "c.csv"
    data.write_text("Email\nanna@bücher.de\nanna@xn--bcher-kva.de\nANNA@BÜCHER.DE\n", encoding="utf-8")
    result = csvprep.clean(data, "contact")
    assert result.clean["C_EmailAddress"].to_list() == ["anna@bücher.de"]
    assert result.rejects.height == 2
    assert all("key.duplicate" in r for r in result.rejects["_reasons"].to_list())


def test_email_list_items_are_normalised() -> None:
    got = run_type("email_list", ["anna@bücher.de; b@XN--BCHER-KVA.DE, c@ｅｘａｍｐｌｅ．ｃｏｍ"])
    assert got[0] == ("anna@bücher.de;b@bücher.de;c@example.com", set())
