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

from csvprep.fields import phones

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


# -- the shapes decided besides the usual NANP ones: extensions, area codes 0xx/1xx, 7 digits,
# plain digit groups of impossible lengths, 011 in front of an international number
SPACES = st.sampled_from(["", " ", "  "])
EXT_LABEL = st.sampled_from(["x", "X", "ext", "ext.", "Ext.", "EXT", "#",
                             "extension", "x.", "ext:", "ext-", "~", "int", ";ext="])  # the last ones: library
AREA = st.one_of(st.builds(lambda a, b: a + b, st.sampled_from(["0", "1"]), st.text(DIGIT, min_size=2, max_size=2)),
                 st.sampled_from(["011", "010", "001", "000", "100", "111", "113", "415", "868", "310"]),
                 st.text(DIGIT, min_size=3, max_size=3))


@st.composite
def nanp_any_area(draw) -> str:
    """A 10-digit number with any area code (0xx and 1xx often), with or without +1/1."""
    prefix = draw(st.sampled_from(["", "", "1", "+1", "1 ", "+1 ", "1-", "+1-", "1.", " ", "-"]))
    opening, closing = draw(st.sampled_from([("", ""), ("(", ")"), ("(", ""), ("", ")")]))
    sep = st.sampled_from(["", " ", "-", "."])
    return (prefix + opening + draw(AREA) + closing + draw(sep) + draw(st.text(DIGIT, min_size=3, max_size=3))
            + draw(sep) + draw(st.text(DIGIT, min_size=4, max_size=4)))


@st.composite
def seven_digits(draw) -> str:
    prefix = draw(st.sampled_from(["", "", "", "1", "1-", "+1 ", "0", "011", "("]))
    first = draw(st.sampled_from(["0", "1", "3", "310", "5", "26"]))
    rest = draw(st.text(DIGIT, min_size=3 - min(len(first), 3), max_size=3 - min(len(first), 3)))
    return (prefix + (first + rest)[:3] + draw(st.sampled_from(["", " ", "-", ".", "  "]))
            + draw(st.text(DIGIT, min_size=4, max_size=4)))


@st.composite
def with_extension(draw) -> str:
    body = draw(st.one_of(nanp_any_area(), seven_digits(), nanp_like()))
    digits = draw(st.text(DIGIT, min_size=1, max_size=draw(st.sampled_from([3, 9, 12]))))
    return (body + draw(st.sampled_from(["", " ", "  ", "\t", ","])) + draw(EXT_LABEL) + draw(SPACES) + digits
            + draw(st.sampled_from(["", "", "#", " "])))


@st.composite
def digit_groups(draw) -> str:
    """Digits without '+' in groups, often behind 0, 00, 011 or a country code."""
    lead = draw(st.sampled_from(["", "", "0", "00", "011", "0110", "1", "44", "49", "0044", "011 44 "]))
    digits = lead + draw(st.text(DIGIT, min_size=1, max_size=17))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(digits) - 1)), max_size=5))))
    sep = draw(st.sampled_from([" ", "-", ".", " "]))
    parts = [digits[i:j] for i, j in zip([0] + cuts, cuts + [len(digits)])]
    return sep.join(p for p in parts if p).strip() or "0"


@SETTINGS
@given(st.lists(nanp_any_area(), min_size=1, max_size=40))
def test_generated_area_codes_agree_with_phonenumbers(values: list[str]) -> None:
    assert_exact(values)


@SETTINGS
@given(st.lists(with_extension(), min_size=1, max_size=40))
def test_generated_extensions_agree_with_phonenumbers(values: list[str]) -> None:
    assert_exact(values)


@SETTINGS
@given(st.lists(st.one_of(seven_digits(), digit_groups()), min_size=1, max_size=40))
def test_generated_digit_groups_agree_with_phonenumbers(values: list[str]) -> None:
    assert_exact(values)


# Values the fast path must decide (E164 for all; the NANP ones in every format); verdicts noted
DECIDED = {
    "(111) 397-3242": "unassigned", "(011) 034-5678": "unassigned", "+1 (111) 934-6652": "unassigned",
    "1 (011) 934-6652": "unassigned", "1 (111) 934-6652": "invalid", "(113 456-7890": "unassigned",
    "856-807-4146 x280": None, "856-807-4146 X 280": None, "856-807-4146ext.9": None, "(415) 555-2671 ext 12": None,
    "415.555.2671 # 7": None, "1 (111) 397-3242  EXT. 123456789": "invalid", "(268) 460-1234 x1": "other_region",
}
DECIDED_E164 = {
    "742-9858": "unassigned", "310-6795": "other_region", "0123456": "unassigned", "742 9858 x12": "unassigned",
    "011 44 20 7946 1612": None, "0044 20 7946 8230": "invalid", "44 20 7946 1301": "invalid",
    "49 30 78855612": "invalid", "0123 4567": "invalid", "234-567-89012": "invalid",
}


@st.composite
def decided_shape(draw) -> str:
    """Shapes the fast path always decides for US, E164."""
    d3, d4 = st.text(DIGIT, min_size=3, max_size=3), st.text(DIGIT, min_size=4, max_size=4)
    sep = st.sampled_from(["", " ", "-", "."])
    kind = draw(st.sampled_from(["area", "ext", "seven", "groups"]))
    if kind in ("area", "ext"):
        area = draw(st.sampled_from(["0", "1", "2", "5", "8"])) + draw(st.text(DIGIT, min_size=2, max_size=2))
        # a bare 1 before 1xx and 011 without a prefix are decided too, but not generated here
        prefix = draw(st.sampled_from(["", "+1", "+1 ", "1 "] if area[0] in "02" else ["", "+1", "+1-"]))
        if prefix == "" and area.startswith("01"):
            area = "02" + area[2]
        opening, closing = draw(st.sampled_from([("", ""), ("(", ")"), ("(", ""), ("", ")")]))
        text = prefix + opening + area + closing + draw(sep) + draw(d3) + draw(sep) + draw(d4)
        if kind == "ext":
            text += (draw(SPACES) + draw(st.sampled_from(["x", "X", "ext", "EXT.", "#"])) + draw(SPACES)
                     + draw(st.text(DIGIT, min_size=1, max_size=9)))
        return text
    if kind == "seven":
        first = draw(d3)
        return ("012" if first == "011" else first) + draw(sep) + draw(d4)
    lead = draw(st.sampled_from(["2", "4", "9", "0", "00", "0044", "01"]))
    size = draw(st.sampled_from([8, 9, 11, 14, 17])) - len(lead)
    digits = lead + draw(st.text(DIGIT, min_size=size, max_size=size))
    if digits.startswith("011"):
        digits = "012" + digits[3:]
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def test_the_new_shapes_are_decided_by_the_fast_path() -> None:
    for fmt in FORMATS:
        values = list(DECIDED) + (list(DECIDED_E164) if fmt == "E164" else [])
        fast = phones.fast_verdicts(pl.Series(values), "US", fmt)
        assert fast["decided"].all(), [v for v, d in zip(values, fast["decided"]) if not d]
        expected = {**DECIDED, **DECIDED_E164}
        assert fast["number"].to_list() == [expected[v] for v in values]
    assert_exact(list(DECIDED) + list(DECIDED_E164))


@SETTINGS
@given(st.lists(decided_shape(), min_size=1, max_size=40))
def test_generated_new_shapes_are_decided_by_the_fast_path(values: list[str]) -> None:
    series = pl.Series(values, dtype=pl.String)
    fast = phones.fast_verdicts(series, "US", "E164")
    assert fast["decided"].all(), [v for v, d in zip(values, fast["decided"]) if not d]
    assert_exact(values)


def test_other_scripts_digits_use_the_library() -> None:
    # polars' \d takes these, phonenumbers reads them as ASCII digits
    values = ["(415) \u0665\u0665\u0665-2671", "\u0664\u0661\u0665 555 2671", "415-555-2671 x\u0661\u0662"]
    fast = assert_exact(values)
    assert not phones.fast_verdicts(pl.Series(values), "US", "E164")["decided"].any()
    assert len(fast) == 3


@SETTINGS
@given(st.lists(st.sampled_from([1, 7, 44, 61, 262, 590, 599, 47, 358]), min_size=1, max_size=3),
       st.lists(st.text("0123456789", min_size=6, max_size=11), min_size=1, max_size=60))
def test_region_resolution_matches_the_library(codes: list[int], nationals: list[str]) -> None:
    """resolve_regions tries runs of leading-digit regions as one pattern: the region it finds
    and the validity are region_code_for_number's and is_valid_number's, for codes shared by
    several regions (NANP, +7, +44, +61, +262, +590, +599, +47, +358)."""
    for cc in codes:
        for length in sorted({len(n) for n in nationals}):
            table = phones.region_table(cc, length)
            group = [n for n in nationals if len(n) == length and not n.startswith("0")]
            if not table or not group:
                continue
            got = phones.resolve_regions(pl.Series(group, dtype=pl.String), table)
            for n, found, valid in zip(group, got["found"], got["valid"]):
                number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(n))
                assert valid == phonenumbers.is_valid_number(number), (cc, n)
                if valid:
                    assert found == phonenumbers.region_code_for_number(number), (cc, n)
