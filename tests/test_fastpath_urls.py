"""The URL shortcuts (plain values skip the capture-group regexes) change no result."""
from __future__ import annotations

import os

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csvprep.fields import urls
from csvprep.fields import blank_to_null

SETTINGS = settings(max_examples=int(os.environ.get("CSVPREP_FASTPATH_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PIECES = st.sampled_from(list("aAzZ09:/?#.-@ \n") + ["é", "É", "İ", "ß", "http://", "HTTPS://", "www.", "WWW.",
                                                     "https://www.", "acme.com", ":8080", "user@"])
URLISH = st.lists(PIECES, max_size=10).map("".join)
EXAMPLES = ["https://www.acme.com/", "HTTP://WWW.ACME.COM", "www.acme.com", "acme.com", "http://a.com?x@y",
            "https://user@Host.com:8080/p", "https://www.ÉCOLE.fr/x", "http:///x", "not a website", "", None]


def reference_host(values: pl.Series) -> pl.Series:
    return pl.select(urls.host_expr(pl.lit(values))).to_series().alias(values.name)


def reference_value(values: pl.Series) -> pl.Series:
    """Url.normalise's value as written before the shortcut: every value through the regex."""
    v = blank_to_null(values)
    bare = v.str.contains(urls.BARE) & ~v.str.contains(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
    x = pl.select(pl.when(bare).then(pl.lit("https://") + v).otherwise(v)).to_series()
    parts = x.str.extract_groups(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)(.*)$")
    lowered = (parts.struct.field("1").str.to_lowercase() + parts.struct.field("2").str.to_lowercase()
               + parts.struct.field("3"))
    return pl.select(pl.coalesce([lowered, x])).to_series().alias(values.name)


def check(values: list[str | None]) -> None:
    s = pl.Series("w", values, dtype=pl.String)
    assert urls.host(s).to_list() == reference_host(s).to_list()
    field = type("F", (), {"options": {}})()
    out = urls.Url().normalise(s, field, None)
    assert out.value.to_list() == reference_value(s).to_list()
    ascii_only = out.value.filter((out.value.str.len_bytes() == out.value.str.len_chars()).fill_null(True))
    assert urls.valid(ascii_only).to_list() == ascii_only.str.contains(urls.VALID).to_list()


def test_examples() -> None:
    check(EXAMPLES)


@SETTINGS
@given(st.lists(URLISH, min_size=1, max_size=50))
def test_generated(values: list[str]) -> None:
    check(values)
