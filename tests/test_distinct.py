"""Types worked out once per distinct value give exactly the per-row outcome."""
from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csvprep.rules import same_domain
from csvprep.schema import Field, Rule
from csvprep.fields import DISTINCT_MIN_ROWS, TYPES, normalise_distinct, per_distinct
from csvprep.options import Options as Context

POOL = ["", "  ", None, "x", "X ", "yes", "No", "1", "1,234", "12.50", "$3", "2024-05-31", "05/31/2024",
        "31.05.2024", "2024-05-31T13:30:00Z", "2024-05-31 13:30", "Europe/Paris", "nowhere",
        "Bob@Example.COM", "a@b", "bad@@x", "a@x.com; B@y.org", "(415) 555-2671", "415-555-2671 x12",
        "+44 20 7946 0958", "555-CALL", "www.acme.com", "http://Acme.com/x", "ftp://x", "=1+1", "@SUM(A1)",
        "RRULE:FREQ=DAILY", "red", "RED", "checked", "é", "漢字", "-", "+1"]


def column(n: int = DISTINCT_MIN_ROWS + 500, seed: int = 7) -> pl.Series:
    rng = random.Random(seed)
    return pl.Series("c", [rng.choice(POOL) for _ in range(n)], dtype=pl.String)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_type_gives_the_same_outcome_per_distinct_value(name: str) -> None:
    f = Field(name="c", type=name, choices=["red", "Green"] if name == "enum" else None)
    s = column()
    plain = TYPES[name].normalise(s, f, Context())
    once = normalise_distinct(TYPES[name], s, f, Context())
    assert once.value.equals(plain.value)
    assert [fl.code for fl in once.flags] == [fl.code for fl in plain.flags]
    for a, b in zip(once.flags, plain.flags):
        mask = b.mask.fill_null(False)
        assert a.mask.fill_null(False).equals(mask)
        if isinstance(b.message, pl.Series):
            assert a.message.filter(mask).equals(b.message.filter(mask))
        else:
            assert a.message == b.message
        if b.fixed is not None:
            assert a.fixed.filter(mask).equals(b.fixed.filter(mask))


def test_per_distinct_maps_values_and_nulls_back_in_order() -> None:
    s = pl.Series(["b", None, "a", "b", None, "c"])
    seen: list[int] = []

    def upper(x: pl.Series) -> pl.Series:
        seen.append(x.len())
        return x.str.to_uppercase().fill_null("NULL")

    assert per_distinct(s, upper).to_list() == ["B", "NULL", "A", "B", "NULL", "C"]
    assert seen == [4]  # a, b, c and null, once each


def test_same_domain_on_a_repetitive_frame_matches_row_by_row() -> None:
    rng = random.Random(3)
    emails = [rng.choice(["a@acme.com", "B@Shop.io", None, "x@y@z.org", "c@mail.acme.com"]) for _ in range(3000)]
    sites = [rng.choice(["https://www.acme.com/", "http://shop.io", None, "https://z.org", "https://other.net/a"])
             for _ in range(3000)]
    frame = pl.DataFrame({"_line": range(2, 3002), "e": emails, "w": sites})
    got = same_domain(frame, Rule("same_domain", ["e", "w"]))
    expected = []
    for line, e, w in zip(frame["_line"], emails, sites):
        if e is None or w is None:
            continue
        dom = e.rsplit("@", 1)[1].lower()
        site = w.split("://", 1)[1].split("/")[0].lower().removeprefix("www.")
        if not (site == dom or site.endswith("." + dom) or dom.endswith("." + site)):
            expected.append(line)
    assert got["line"].to_list() == expected and expected


SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\x1c", "a", "b c", "é", ""])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(SPACES, max_size=8).map("".join), max_size=40))
def test_text_trims_and_collapses_like_strip_then_replace(values: list[str]) -> None:
    s = pl.Series("t", values, dtype=pl.String)
    stripped = s.str.strip_chars()
    expected = pl.select(pl.when(stripped == "").then(None).otherwise(stripped.str.replace_all(r"\s+", " "))).to_series()
    got = TYPES["text"].normalise(s, Field(name="t"), Context()).value
    assert got.to_list() == expected.to_list()


def _domain_rule_reference(e: str | None, w: str | None) -> bool:
    """Row by row: is there a domain.mismatch? (the rule's definition, in plain Python)."""
    import re

    if e is None or w is None:
        return False
    m = re.search(r"@([^@]+)$", e)
    h = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)", w)
    if not m or not h:
        return False
    dom, site = m.group(1).lower(), h.group(1).lower().removeprefix("www.")
    return not (site == dom or site.endswith("." + dom) or dom.endswith("." + site))


PARTS = st.sampled_from(["a", "acme", "Acme", "com", "co.uk", ".", "@", "www.", "mail.", "", "x-y", "ACME.COM"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.lists(PARTS, max_size=5).map("".join)),
                          st.one_of(st.none(), st.tuples(st.sampled_from(["https://", "http://", "HTTP://", "ftp://", ""]),
                                                         st.lists(PARTS, max_size=4).map("".join),
                                                         st.sampled_from(["", "/", "/x", ":8080/", "?q"]))
                                    .map("".join))), max_size=30))
@example([("a@xacme.com", "https://acme.com"), ("a@mail.acme.com", "http://www.acme.com/x"), ("a@ACME.com", "acme.com"),
          ("a@b@acme.com", "https://acme.com"), ("a@acme.com", "https://shop.acme.com"), ("a@acme.com", "https://xacme.com"),
          ("acme.com", "https://acme.com"), ("a@", "https://acme.com"), ("a@acme.com", "https://@/"),
          (".@a", "https://@@a"), ("x@a", "http://u@x@a/")])
def test_same_domain_matches_its_row_by_row_definition(pairs: list) -> None:
    frame = pl.DataFrame({"_line": list(range(2, len(pairs) + 2)), "e": [p[0] for p in pairs],
                          "w": [p[1] for p in pairs]}, schema={"_line": pl.Int64, "e": pl.String, "w": pl.String})
    got = same_domain(frame, Rule("same_domain", ["e", "w"]))["line"].to_list()
    assert got == [line for line, (e, w) in zip(frame["_line"], pairs) if _domain_rule_reference(e, w)]
