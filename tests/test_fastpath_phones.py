"""The vectorised phone fast path gives exactly phonenumbers' verdicts and formatted values."""
from __future__ import annotations

import json
import os
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvprep import phones

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "values"
SETTINGS = settings(max_examples=int(os.environ.get("CSVPREP_FASTPATH_EXAMPLES", "80")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FORMATS = ["E164", "NATIONAL", "INTERNATIONAL"]
FIELDS = ["formatted", "shape", "number", "detail"]


def assert_exact(values: list[str | None], region: str = "US") -> pl.DataFrame:
    """Where the fast path decides, it agrees with phonenumbers (via `analyse`); so does `verdicts`."""
    series = pl.Series("v", values, dtype=pl.String)
    fast = None
    for fmt in FORMATS:
        ref = [(None,) * 4 if v is None else phones.analyse(v, region, fmt) for v in values]
        fast = phones.fast_verdicts(series, region, fmt)
        for value, row, expected in zip(values, fast.iter_rows(named=True), ref):
            if row["decided"]:
                assert tuple(row[c] for c in FIELDS) == expected, (value, fmt, row, expected)
        got = phones.verdicts(series, region, fmt)
        assert got["value"].to_list() == values
        assert list(got.select(FIELDS).iter_rows()) == ref
    return fast


def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS


def nanp_shapes(n: str) -> list[str]:
    """Ways people write the 10-digit North American number n."""
    a, b, c = n[:3], n[3:6], n[6:]
    return [n, f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"1-{a}-{b}-{c}",
            f"+1{n}", f"1{n}", f"+1 ({a}) {b}-{c}", f"{a}) {b}-{c}", f"({a} {b}-{c}", f"1 ({a}) {b}{c}"]


def test_corpus_numbers_agree_with_phonenumbers() -> None:
    root = corpus()
    e164 = [ln for ln in (root / "libphonenumber_valid_e164.txt").read_text(encoding="utf-8").split("\n")
            if ln and not ln.startswith("#")]
    values = list(e164) + [x[1:] for x in e164]  # non-US numbers with and without '+'
    rows = (root / "libphonenumber_example_numbers.tsv").read_text(encoding="utf-8").split("\n")[1:]
    nanp = [r.split("\t")[3] for r in rows if r.startswith("1\t")]
    assert len(nanp) > 100
    for n in nanp:
        values += nanp_shapes(n)
    fast = assert_exact(values)
    assert fast["decided"].sum() >= len(nanp) * 10  # the NANP shapes are decided by the fast path


def test_corpus_strings_agree_with_phonenumbers() -> None:
    root = corpus()
    by_region: dict[str, list[str]] = {}
    for ln in (root / "libphonenumber_test_strings.tsv").read_text(encoding="utf-8").split("\n")[1:]:
        if ln.strip():
            cells = ln.split("\t")
            by_region.setdefault(cells[2], []).append(json.loads(cells[1]))
    for ln in (root / "libphonenumber_invalid_strings.txt").read_text(encoding="utf-8").split("\n"):
        if ln and not ln.startswith("#"):
            text, region, _ = ln.split("\t")
            by_region.setdefault(region, []).append(text)
    everything = [v for vs in by_region.values() for v in vs]
    assert_exact(everything, "US")
    for region, values in by_region.items():
        if region in phonenumbers.SUPPORTED_REGIONS:
            assert_exact(values, region)


def test_awkward_cases() -> None:
    values = ["(415) 555-2671", "(333) 333-1234", "444) 444-1234", "(868) 888-1234", "+1 (868) 888-1234",
              "(268) 460-1234", "1-800-FLOWERS", "(800) CALL-NOW", "415-555-2671 x123", "415-555-2671 ext. 9",
              "+44 20 7946 0958", "44 20 7946 0958", "0044 20 7946 0958", "011 44 20 7946 0958",
              "+4155552671", "555-1234", "(415) 555-26711", "((415)) 555-2671", "415/555/2671", None]
    fast = assert_exact(values)
    decided = dict(zip(values, fast["decided"]))
    assert decided["(415) 555-2671"] and decided["444) 444-1234"] and decided["(268) 460-1234"]
    assert not decided["1-800-FLOWERS"] and not decided["+44 20 7946 0958"] and not decided["+4155552671"]


def test_other_regions_use_the_library() -> None:
    fast = phones.fast_verdicts(pl.Series(["(415) 555-2671"]), "CA", "E164")
    assert not fast["decided"].any()
    assert_exact(["(415) 555-2671", "(613) 555-0123", "+1 613 555 0123"], "CA")


def test_nanp_table_comes_from_the_metadata() -> None:
    table = phones.nanp_table()
    assert [r[0] for r in table] == list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
    assert table[0][0] == "US" and table[0][1] is None


DIGIT = st.sampled_from("0123456789")
SEP = st.sampled_from(["", "", " ", "-", ".", "  ", "/", "--"])


@st.composite
def nanp_like(draw) -> str:
    area = draw(st.one_of(st.sampled_from(["415", "212", "555", "333", "444", "868", "268", "800", "900", "911",
                                           "242", "809", "649", "340", "671", "684", "204", "226"]),
                          st.text(DIGIT, min_size=3, max_size=3)))
    exch = draw(st.text(DIGIT, min_size=3, max_size=3))
    line = draw(st.text(DIGIT, min_size=3, max_size=5))
    prefix = draw(st.sampled_from(["", "", "1", "+1", "+", "1 ", "+1 ", "+1-", "0", "00", "+44 ", "011 "]))
    opening, closing = draw(st.sampled_from([("", ""), ("(", ")"), ("(", ""), ("", ")"), ("((", ")")]))
    text = prefix + opening + area + closing + draw(SEP) + exch + draw(SEP) + line
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([" x12", " ext. 7", "#", "A", " "]))
    return text


@SETTINGS
@given(st.lists(nanp_like(), min_size=1, max_size=40))
def test_generated_nanp_numbers_agree_with_phonenumbers(values: list[str]) -> None:
    assert_exact(values)


@SETTINGS
@given(st.lists(st.text(st.sampled_from("0123456789 ()-.+xA"), max_size=16), min_size=1, max_size=40))
def test_random_phone_text_agrees_with_phonenumbers(values: list[str]) -> None:
    assert_exact([v.strip() or None for v in values])


CODES = st.sampled_from(["44", "49", "33", "61", "81", "91", "52", "34", "7", "39", "47", "358", "590", "262",
                         "599", "212", "290", "31", "86", "55", "27", "1", "800", "882", "979", "999", "0", "2"])


@st.composite
def international(draw) -> str:
    groups = draw(st.lists(st.text(DIGIT, min_size=1, max_size=5), min_size=1, max_size=5))
    sep = draw(st.sampled_from([" ", "-", ".", ""]))
    return "+" + draw(CODES) + draw(st.sampled_from([" ", "", "-"])) + sep.join(groups)


@SETTINGS
@given(st.lists(international(), min_size=1, max_size=40))
def test_generated_international_numbers_agree_with_phonenumbers(values: list[str]) -> None:
    fast = assert_exact(values)
    assert len(fast) == len(values)
