"""The phone hot path (hot_verdicts, and Phone.normalise judging only the rest) changes nothing:
same verdicts as the general fast path, same values and flags as the plain reading of `verdicts`."""
from __future__ import annotations

import itertools
import os
import re

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvprep.fields import phones
from csvprep.schema import Field
from csvprep.fields import TYPES, Flag, Outcome, blank_to_null
from csvprep.options import Options as Context

from test_fastpath_phones import nanp_any_area, nanp_like, with_extension

SETTINGS = settings(max_examples=int(os.environ.get("CSVPREP_FASTPATH_EXAMPLES", "80")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FORMATS = ["E164", "NATIONAL", "INTERNATIONAL"]
FIELDS = ["decided", "formatted", "shape", "number", "detail"]
MIXED = [
    "(415) 555-2671", "415-555-2671", "415.555.2671", "4155552671", "+1 415 555 2671", "1-415-555-2671",
    "+14155552671", " 4155552671", "  (415) 555-2671  ", "\t415-555-2671", "4155552671 ", "-415-555-2671",
    ".415.555.2671", "+1-415-555-2671", "+1.(415).555.2671", "1(415)5552671", "1 415 555 2671",
    "(613) 555-0123", "613-555-0123", "+1 613 555 0123", "(204) 555-0199", "226.555.0100",  # CA
    "(268) 460-1234", "+1 (268) 460-1234", "(876) 555-0123", "(787) 555-0123",  # other NANP regions
    "(111) 824-7400", "(011) 034-5678", "1 (111) 934-6652", "(555) 555-0100", "(900) 123-4567",
    "(800) 555-0199", "(523) 555-0100", "(524) 211-1234", "(983) 555-0100", "(983) 655-0100",
    "415-555-2671 x123", "415-555-2671 ext. 9", "(415 555-2671", "415) 555-2671", "((415)) 555-2671",
    "+1 415 555 2671#7", "1-800-FLOWERS", "+44 20 7946 0958", "011 44 20 7946 0958", "555-1234",
    "(415) 555-26711", "415/555/2671", "+4155552671", "", " ", "   ", None,
]


def reference(s: pl.Series, region: str, fmt: str) -> Outcome:
    """Phone.normalise as it read before the hot path: every value through `verdicts`."""
    v = blank_to_null(s)
    t = phones.verdicts(v, region, fmt)
    ok = t["formatted"].is_not_null()
    value = pl.select(pl.when(ok).then(t["formatted"]).otherwise(v)).to_series().alias(s.name)
    detail = t["detail"].fill_null("")
    malformed = t["shape"] == "malformed"
    return Outcome(value, [
        Flag("phone.invalid", "error", (t["number"] == "invalid").fill_null(False),
             pl.select(pl.when(malformed).then(pl.lit("malformed and not a possible phone number: ") + detail)
                       .otherwise(pl.lit("not a possible phone number: ") + detail)).to_series()),
        Flag("phone.malformed", "warning", (malformed & ok).fill_null(False), "", value),
        Flag("phone.vanity", "warning", ((t["shape"] == "vanity") & ok).fill_null(False), "", value),
        Flag("phone.unassigned", "warning", (t["number"] == "unassigned").fill_null(False), "", value),
        Flag("phone.other_region", "warning", (t["number"] == "other_region").fill_null(False),
             ("belongs to another region: " + detail), value),
    ])


def assert_same(values: list[str | None], region: str = "US") -> None:
    s = pl.Series("Phone", values, dtype=pl.String)
    for fmt in FORMATS:
        f = Field(name="phone", type="phone", options={"region": region, "format": fmt})
        got = TYPES["phone"].normalise(s, f, Context())
        want = reference(s, region, fmt)
        assert got.value.name == "Phone"
        assert got.value.to_list() == want.value.to_list(), fmt
        assert [x.code for x in got.flags] == [x.code for x in want.flags]
        for g, w in zip(got.flags, want.flags):
            keep = w.mask.fill_null(False)
            assert g.mask.to_list() == keep.to_list(), (g.code, fmt)
            if keep.any():
                if isinstance(w.message, pl.Series):  # a per-row message
                    assert g.message.filter(keep).to_list() == w.message.filter(keep).to_list(), (g.code, fmt)
                if w.fixed is not None:
                    assert g.fixed.filter(keep).to_list() == w.fixed.filter(keep).to_list(), (g.code, fmt)
        # hot values are decided exactly as the general fast path decides them
        hot = phones.hot_verdicts(s, region, fmt)
        general = phones.general_verdicts(s, region, fmt)
        for value, h, row in zip(values, hot.iter_rows(named=True), general.iter_rows(named=True)):
            if h["hot"]:
                assert row["decided"] and (row["formatted"], row["shape"], row["number"], row["detail"]) == (
                    h["formatted"], None, None, None), (value, fmt)
        assert (phones.fast_verdicts(s, region, fmt).select(FIELDS).to_dicts()
                == general.select(FIELDS).to_dicts()), fmt


def test_mixed_values_normalise_as_before() -> None:
    assert_same(MIXED)
    assert phones.hot_verdicts(pl.Series(MIXED), "US", "E164")["hot"].sum() >= 15


def test_other_regions_normalise_as_before() -> None:
    for region in ("CA", "GB", "AG"):
        assert_same(MIXED, region)
        assert not phones.hot_verdicts(pl.Series(MIXED), region, "E164")["hot"].any()


def test_all_hot_none_hot_and_empty() -> None:
    assert_same(["(415) 555-2671", "+14155552671"])
    assert_same(["(111) 555-2671", None, ""])
    assert_same([])


@SETTINGS
@given(st.lists(st.one_of(nanp_like(), nanp_any_area(), with_extension(), st.none(),
                          st.sampled_from(["", " ", "  (415) 555-2671 ", " +1 613 555 0123"])),
                min_size=1, max_size=40))
def test_generated_values_normalise_as_before(values: list[str | None]) -> None:
    assert_same(values)


def test_usual_validity_leaves_out_only_a_general_pattern_every_usual_number_meets() -> None:
    us = phones.nanp_table()[0][2]
    assert phones.usual_validity(us) == (us[1],)
    assert phones.usual_validity((r"^(?:3\d{6}|[2-9]\d{9})$", "t")) == ("t",)
    for general in [r"^(?:[2-9]\d{8})$", r"^(?:a\|[2-9]\d{9})$", r"^(?:([2-9]\d{9}))$", r"^(?:[2-8]\d{9})$",
                    r"^(?:[2-9]\d{9}5)$"]:
        assert phones.usual_validity((general, "t")) == (general, "t")


def test_the_last_ten_without_inner_separators_are_the_national_number_of_every_usual_shape() -> None:
    # every way USUAL admits to write one number: prefix, separators, parentheses
    values = []
    for prefix in ("", "+1", "1"):
        for s1, s2, s3 in itertools.product(["", " ", ".", "-"], repeat=3):
            for area in ("415", "(415)"):
                values.append(f"{prefix}{s1}{area}{s2}555{s3}2671")
    s = pl.Series(values)
    assert s.str.contains(phones.USUAL).all()
    got = phones.without_inner_separators(s).str.slice(-10).to_list()  # as hot_verdicts takes it
    assert got == ["4155552671"] * len(values)


@SETTINGS
@given(st.lists(st.one_of(st.from_regex(phones.USUAL, fullmatch=True), nanp_like(), nanp_any_area()),
                min_size=1, max_size=40))
def test_the_last_ten_without_inner_separators_on_generated_values(values: list[str]) -> None:
    s = pl.Series(values, dtype=pl.String)
    got = pl.DataFrame({"n": phones.without_inner_separators(s).str.slice(-10), "usual": s.str.contains(phones.USUAL)})
    for value, n, usual in zip(values, got["n"], got["usual"]):
        if usual:
            assert n == re.sub(r"[^0-9]", "", value)[-10:], value


def _replaced(values: list[str | None]) -> list[str]:
    s = pl.Series(values, dtype=pl.String).fill_null("")
    return s.str.replace_many(list(phones.INNER_SEPARATORS), [""] * len(phones.INNER_SEPARATORS)).to_list()


def test_without_inner_separators_equals_replace_many() -> None:
    for values in [MIXED, [], [""], [None], ["a\x00b", "(415) 555-2671"], ["\x00"], ["é 415-555.2671)", "٤١٥ ٥٥٥"],
                   ["  ", "-.) ", None, "1-800-FLOWERS"]]:
        got = phones.without_inner_separators(pl.Series("Phone", values, dtype=pl.String))
        assert got.dtype == pl.String and got.to_list() == _replaced(values), values


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.text(), st.text(alphabet=" .-)(+0123456789\x00é"), nanp_like()),
                max_size=40))
def test_without_inner_separators_on_generated_texts(values: list[str | None]) -> None:
    got = phones.without_inner_separators(pl.Series(values, dtype=pl.String))
    assert got.to_list() == _replaced(values)


def test_digits_equals_the_regex() -> None:
    values = [*MIXED, "a\x00b1", "\x00", "٤١٥ 555", "é1-2", "+44 (0) 20"]
    got = phones.digits(pl.Series(values, dtype=pl.String))
    want = pl.Series(values, dtype=pl.String).fill_null("").str.replace_all("[^0-9]", "")
    assert got.to_list() == want.to_list()
    assert phones.digits(pl.Series(["1a2", None])).to_list() == ["12", ""]


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.text(), st.text(alphabet=" .-)(+0123456789\x00éa٤"), nanp_like()),
                max_size=40))
def test_digits_on_generated_texts(values: list[str | None]) -> None:
    got = phones.digits(pl.Series(values, dtype=pl.String))
    assert got.to_list() == pl.Series(values, dtype=pl.String).fill_null("").str.replace_all("[^0-9]", "").to_list()


def test_delete_bytes_falls_back_for_texts_too_big_to_join(monkeypatch) -> None:
    values = ["(415) 555-2671", None, "a\u00e91 2"]
    monkeypatch.setattr(phones, "_JOINED_MAX", 0)
    assert phones.without_inner_separators(pl.Series(values)).to_list() == _replaced(values)
    assert phones.digits(pl.Series(values)).to_list() == ["4155552671", "", "12"]
