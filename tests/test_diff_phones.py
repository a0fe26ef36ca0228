"""Differential test: the phone type against phonenumbers (parse, possibility, format), E.164's 15 digits."""
from __future__ import annotations

import phonenumbers
import pytest
from diffkit import BATCH, EXAMPLES, diff_settings, errors, run_type
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat

from csvprep.options import Options

FORMATS = {"E164": PhoneNumberFormat.E164, "INTERNATIONAL": PhoneNumberFormat.INTERNATIONAL,
           "NATIONAL": PhoneNumberFormat.NATIONAL}


def ref_phone(text: str | None, region: str, fmt: str) -> tuple[str | None, bool]:
    """README: parsed by phonenumbers for the region; an impossible number or one of more than 15
    digits is an error; written in fmt (NATIONAL only for the region's own country code, else
    INTERNATIONAL), E164 with ' ext. N' for an extension."""
    t = (text or "").strip()
    if not t:
        return None, False
    try:
        n = phonenumbers.parse(t, region)
    except NumberParseException:
        return None, True
    if not phonenumbers.is_possible_number(n):
        return None, True
    if len(str(n.country_code)) + len(phonenumbers.national_significant_number(n)) > 15:
        return None, True
    shown = fmt
    if fmt == "NATIONAL" and n.country_code != phonenumbers.country_code_for_region(region):
        shown = "INTERNATIONAL"
    out = phonenumbers.format_number(n, FORMATS[shown])
    if n.extension and fmt == "E164":
        out += f" ext. {n.extension}"
    return out, False


digits = st.text("0123456789", min_size=1, max_size=18)
seps = st.sampled_from(["", " ", "-", ".", "(", ")"])
numbers = st.one_of(
    st.builds(lambda d: d, digits),
    st.builds(lambda c, d: f"+{c} {d}", st.sampled_from([1, 44, 49, 33, 81, 234, 598, 62, 7, 86, 999]), digits),
    st.builds(lambda a, b, c, s: f"({a}){s}{b}-{c}", st.text("0123456789", min_size=3, max_size=3),
              st.text("0123456789", min_size=3, max_size=3), st.text("0123456789", min_size=4, max_size=4), seps),
    st.builds(lambda d, e: f"{d}{e}", digits, st.sampled_from([" x12", " ext. 7", ";ext=1234", "#9"])),
    st.builds(lambda d, e: f"tel:+{d}{e}", digits, st.sampled_from(["", ";ext=55", ";phone-context=+1"])),
    st.sampled_from(["+49 1234 5678901234", "+81 12 3456 7890 12", "tel:+1-201-555-0123;ext=1234",
                     "+44 20 7946 0958", "2015550123", "+1 (201) 555-0123", "1-800-FLOWERS", "011 44 20 7946 0958"]),
    st.text("0123456789+()-. xext", max_size=16),
)
batch = st.lists(numbers, min_size=1, max_size=BATCH)


@pytest.mark.parametrize("region,fmt", [("US", "E164"), ("US", "NATIONAL"), ("GB", "INTERNATIONAL"), ("DE", "E164"),
                                        ("GB", "NATIONAL")])
@diff_settings(EXAMPLES // 2)
@given(batch)
def test_phone_agrees_with_phonenumbers(region: str, fmt: str, texts: list[str]) -> None:
    got = run_type("phone", texts, Options(region=region, phone_format=fmt))
    bad = []
    for t, (value, codes) in zip(texts, got):
        want, want_error = ref_phone(t, region, fmt)
        if bool(errors(codes)) != want_error or (not want_error and value != want):
            bad.append((t, value, sorted(codes), want, want_error))
    assert bad == []


def test_issue_examples() -> None:
    long = run_type("phone", ["+49 1234 5678901234"])  # possible in Germany, but 16 digits
    assert "phone.invalid" in long[0][1]
    national = run_type("phone", ["+44 20 7946 0958", "2015550123"], Options(phone_format="NATIONAL"))
    assert [v for v, _ in national] == ["+44 20 7946 0958", "(201) 555-0123"]
    tel = run_type("phone", ["tel:+1-201-555-0123;ext=1234"])
    assert tel[0] == ("+12015550123 ext. 1234", set())
