"""URL type: trimmed, `https://` added to bare domains, host lower-cased, http(s) only."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, matches, register

if TYPE_CHECKING:
    import pandera.polars as pa

    from ..schema import Field

BARE = r"^(?i)(www\.)?[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+(:\d{1,5})?([/?#].*)?$"
PORT = r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"  # 0-65535
# what a clean value looks like (the pandera check); `valid` decides exactly: this regex on ASCII
# values, IDNA (UTS-46) for hosts beyond ASCII, in any script, cased or not
VALID = (r"^https?://([\p{L}\p{N}\p{M}]([\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?\.)+[\p{L}\p{M}]{2,63}\.?"
         + PORT + r"([/?#]\S*)?$")


# VALID with ASCII classes: the verdict on ASCII text, and ~20x faster than the Unicode classes
VALID_ASCII = r"^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?" + PORT + r"([/?#]\S*)?$"


# scheme and host with nothing that to_lowercase changes (no A-Z, nothing beyond ASCII)
LOWER_ALREADY = r"^[a-z][a-z0-9+.-]*://[^/?#A-Z\x{80}-\x{10FFFF}]*(?:[/?#]|$)"
_IDN_URL = re.compile(r"https?://([^/?#:@\s]+?)\.?" + PORT + r"(?:[/?#]\S*)?")


@lru_cache(maxsize=1 << 16)
def idn_valid(url: str) -> bool:
    """Whether an http(s) URL with characters beyond ASCII is valid: each label of the host passes IDNA
    (UTS-46, non-transitional), at least two labels, the last one letters only, 253 bytes at most."""
    import idna

    m = _IDN_URL.fullmatch(url)
    if m is None:
        return False
    host = m[1]
    if host.isascii():  # characters beyond ASCII only after the host: the ASCII verdict
        return re.search(VALID_ASCII, url) is not None
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    try:
        ascii_host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    last = labels[-1]
    tld_ok = (last.isascii() and last.isalpha() and 2 <= len(last) <= 63) or (
        not last.isascii() and all(ch.isalpha() or unicodedata.category(ch).startswith("M") for ch in last))
    return tld_ok and len(ascii_host) <= 253


def valid(x: pl.Series) -> pl.Series:
    """Whether each (normalised) value is an http(s) URL: VALID_ASCII on ASCII values, `idn_valid`
    once per distinct value on the rest."""
    ok = x.str.contains(VALID_ASCII)
    idx = (x.str.len_bytes() != x.str.len_chars()).fill_null(False).arg_true()
    if len(idx):
        sub = x.gather(idx)
        uniq = sub.unique()
        table = pl.DataFrame({"k": uniq, "ok": pl.Series([idn_valid(u) for u in uniq.to_list()], dtype=pl.Boolean)})
        ok = ok.scatter(idx, pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")["ok"])
    return ok


def host_expr(url: pl.Expr) -> pl.Expr:
    """The host of each URL (lower-case, without `www.` and port), as an expression."""
    return url.str.extract(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)", 1).str.to_lowercase().str.replace(r"^www\.", "")


# a URL whose host is plain lower-case ASCII, without user, port or any '@'
SIMPLE_HOST = r"^[a-zA-Z][a-zA-Z0-9+.-]*://[a-z0-9.-]+(?:[/?#][^@]*)?$"


def host(url: pl.Series) -> pl.Series:
    """The host of each URL (lower-case, without `www.` and port); `host_expr` on a Series, with
    cheap string slicing for plain URLs (the capture-group regex is slow)."""
    url = url.cast(pl.String)
    simple = url.str.contains(SIMPLE_HOST).fill_null(False)
    rest = url.str.slice(url.str.find("://", literal=True) + 3)
    end = rest.str.find(r"[/?#]").fill_null(rest.str.len_chars())
    out = pl.select(pl.when(simple).then(rest.str.slice(0, end).str.strip_prefix("www."))).to_series()
    todo = (~simple).arg_true()
    if len(todo):
        out = out.scatter(todo, pl.select(host_expr(pl.lit(url.gather(todo)))).to_series())
    return out.alias(url.name)


@register
class Url(FieldType):
    """A web address; anything that is not http(s) after fixing is an error."""

    name = "url"
    options = {"default_scheme": "https"}

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        scheme = str(self.opt(f, "default_scheme"))
        bare = v.str.contains(BARE) & ~v.str.contains(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
        x = pl.select(pl.when(bare).then(pl.lit(scheme + "://") + v).otherwise(v)).to_series()
        # only values with something to lower-case in the scheme or host go through the regex
        todo = (~x.str.contains(LOWER_ALREADY)).fill_null(False).arg_true()
        if len(todo):
            y = x.gather(todo)
            parts = y.str.extract_groups(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/?#]*)(.*)$")
            lowered = (parts.struct.field("1").str.to_lowercase() + parts.struct.field("2").str.to_lowercase()
                       + parts.struct.field("3"))
            x = x.scatter(todo, pl.select(pl.coalesce([lowered, y])).to_series())
        x = x.alias(s.name)
        ok = valid(x)
        flags = [
            Flag("url.invalid", "error", (x.is_not_null() & ~ok.fill_null(False)),
                 "not a web address (expected like https://www.example.com)"),
            Flag("url.scheme_added", "warning", (bare.fill_null(False) & ok.fill_null(False)),
                 f"no scheme: {scheme}:// was added", x),
        ]
        return Outcome(x, flags)

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(VALID, "url.invalid")]
