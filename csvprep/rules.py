"""Cross-field rules named in schema files; each returns the issues it finds."""
from __future__ import annotations

from collections.abc import Callable

import polars as pl

from .schema import Rule
from .urls import host

RuleFn = Callable[[pl.DataFrame, Rule], "pl.DataFrame | tuple[pl.DataFrame, pl.DataFrame]"]  # issues[, rewritten rows]
RULES: dict[str, RuleFn] = {}
LINE = "_line"


def rule(name: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under `name`."""
    def deco(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        return fn
    return deco


def issues_where(frame: pl.DataFrame, mask: pl.Expr, r: Rule, column: str, code: str,
                 message: pl.Expr | str) -> pl.DataFrame:
    """Issue rows for the lines of `frame` where `mask` holds."""
    msg = pl.lit(message) if isinstance(message, str) else message
    return frame.filter(mask.fill_null(False)).select(
        line=pl.col(LINE).cast(pl.Int64), column=pl.lit(column), value=pl.col(column).cast(pl.String),
        code=pl.lit(r.code or code), severity=pl.lit(r.severity),
        message=pl.lit(r.message) if r.message else msg, fixed=pl.lit(None, dtype=pl.String))


@rule("same_domain")
def same_domain(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """The email's domain and the website's host belong to the same domain."""
    email, url = r.fields
    dom = pl.col(email).str.extract(r"@([^@]+)$", 1).str.to_lowercase()
    site = pl.col(url).map_batches(lambda s: host(s), return_dtype=pl.String)
    same = (site == dom) | site.str.ends_with(pl.lit(".") + dom) | dom.str.ends_with(pl.lit(".") + site)
    mask = dom.is_not_null() & site.is_not_null() & ~same
    message = pl.format("the website's domain ({}) differs from the email's domain ({})", site, dom)
    return issues_where(frame, mask, r, url, "domain.mismatch", message)


@rule("not_null")
def not_null(frame: pl.DataFrame, r: Rule) -> pl.DataFrame:
    """Each field, when its column is present, has a value on every row (e.g. NOT NULL with a default)."""
    parts = [issues_where(frame, pl.col(f).is_null(), r, f, "field.required", "a value is required here")
             for f in r.fields]
    return pl.concat(parts)
