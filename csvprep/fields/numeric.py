"""Whole numbers, decimals and booleans."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, invalid, matches, register

if TYPE_CHECKING:
    import pandera.polars as pa

    from ..schema import Field


INT8 = (-(1 << 63), (1 << 63) - 1)  # PostgreSQL bigint, polars Int64
# characters written for digits, signs and separators in other scripts and full-width forms
_SIGNS = {"\u2212": "-", "\u066b": ".", "\u066c": ",", "\u00a0": " ", "\u202f": " ", "\u2009": " "}


def ascii_digits(text: str) -> str:
    """Digits of any script (Unicode Nd) as ASCII, full-width forms as ASCII, the minus sign as
    '-', Arabic decimal and thousands separators as '.' and ',', no-break spaces as spaces."""
    import unicodedata

    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
        elif ch.isdecimal():
            out.append(str(unicodedata.decimal(ch)))
        elif "\uff01" <= ch <= "\uff5e":
            out.append(chr(ord(ch) - 0xFEE0))
        else:
            out.append(_SIGNS.get(ch, ch))
    return "".join(out)


def to_ascii(v: pl.Series) -> pl.Series:
    """`ascii_digits` of the values with characters beyond ASCII (once per distinct value)."""
    idx = (v.str.len_bytes() != v.str.len_chars()).fill_null(False).arg_true()
    if not len(idx):
        return v
    sub = v.gather(idx)
    uniq = sub.unique()
    table = pl.DataFrame({"k": uniq, "a": pl.Series([ascii_digits(x) if x is not None else None
                                                      for x in uniq.to_list()], dtype=pl.String)})
    fixed = pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")["a"]
    return v.clone().scatter(idx, fixed)


def false(n: int) -> pl.Series:
    """n times False."""
    return pl.repeat(False, n, dtype=pl.Boolean, eager=True)


@register
class Integer(FieldType):
    """Whole numbers (64-bit); thousands separators, `.0`, a `+` and other scripts' digits are fixed with a warning."""

    name = "integer"
    options = {"min": None, "max": None}
    PATTERN = r"^-?[0-9]+$"

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        lo, hi = self.opt(f, "min"), self.opt(f, "max")
        for key, value in (("min", lo), ("max", hi)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"`{key}` must be a whole number, not {value!r}")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"`min` ({lo}) is above `max` ({hi})")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        a = to_ascii(v)
        fixed = a.str.replace(r"^\+([0-9])", "$1")
        grouped = fixed.str.contains(r"^-?[0-9]{1,3}([, ][0-9]{3})+$")
        fixed = pl.select(pl.when(grouped).then(fixed.str.replace_all(r"[, ]", "")).otherwise(fixed)).to_series()
        trailing = fixed.str.contains(r"^-?[0-9]+\.0+$")
        fixed = pl.select(pl.when(trailing).then(fixed.str.replace(r"\.0+$", "")).otherwise(fixed)).to_series()
        fixed = fixed.str.replace(r"^(-?)0+([0-9])", "$1$2").str.replace(r"^-0$", "0")
        whole = fixed.str.contains(r"^-?[0-9]+$").fill_null(False)
        num = pl.select(pl.when(whole & (fixed.str.len_bytes() <= 20)).then(fixed)).to_series().cast(pl.Int64, strict=False)
        ok = num.is_not_null()
        flags = [invalid(v, whole, "integer.invalid", "not a whole number"),
                 Flag("integer.out_of_range", "error", whole & ~ok,
                      f"outside the range of a 64-bit integer ({INT8[0]}..{INT8[1]})")]
        lo, hi = self.opt(f, "min"), self.opt(f, "max")
        if lo is not None or hi is not None:
            out = false(len(num))
            if lo is not None:
                out = out | (num < lo).fill_null(False)
            if hi is not None:
                out = out | (num > hi).fill_null(False)
            flags.append(Flag("integer.out_of_range", "error", out,
                              f"outside the allowed range {lo if lo is not None else '…'}..{hi if hi is not None else '…'}"))
        mask = changed(v, fixed) & ok & ((grouped | trailing).fill_null(False) | changed(v, a)
                                         | changed(v, a.str.replace(r"^\+", "")))
        flags.append(Flag("integer.reformatted", "warning", mask,
                          "digit grouping, a zero fraction, a + sign or other digits were rewritten", fixed))
        return Outcome(pl.select(pl.when(ok).then(fixed).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(self.PATTERN, "integer.invalid")]


def fit(text: str, precision: int | None, scale: int | None) -> tuple[str | None, bool]:
    """(the value rounded half away from zero to `scale` places, or None when it then has more
    than `precision` digits; whether rounding changed it), by exact decimal arithmetic."""
    from decimal import ROUND_HALF_UP, Decimal as D, InvalidOperation, localcontext

    with localcontext() as ctx:
        # rounding needs at most len(text) + scale digits: the digits written reach below the scale
        ctx.prec = len(text) + (scale or 0) + 10
        try:
            d = D(text)
        except InvalidOperation:
            return None, False
        rounded = d
        if scale is not None and d.as_tuple().exponent < -scale:  # type: ignore[operator]
            rounded = d.quantize(D(1).scaleb(-scale), rounding=ROUND_HALF_UP)
            if rounded == 0:
                rounded = rounded.copy_abs()
        if precision is not None and rounded != 0 and rounded.adjusted() >= precision - (scale or 0):
            return None, False
    if rounded is d:
        return text, False
    return format(rounded, "f"), True


@register
class Decimal(FieldType):
    """Decimal numbers; grouping, currency signs, decimal commas and other scripts' digits are fixed
    with a warning; values with more places than `scale` are rounded (half away from zero)."""

    name = "decimal"
    options = {"precision": None, "scale": None, "decimal_comma": False}
    PATTERN = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        precision, scale = self.opt(f, "precision"), self.opt(f, "scale")
        for key, value in (("precision", precision), ("scale", scale)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"`{key}` must be a whole number of digits, not {value!r}")
        if precision is not None and precision < 1:
            raise ValueError("`precision` must be at least 1")
        if precision is not None and scale is not None and scale > precision:
            raise ValueError(f"`precision` ({precision}) is below `scale` ({scale})")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        a = to_ascii(v)
        x = a.str.replace(r"^([+-]?)[$€£¥]\s?", "$1").str.replace(r"\s?(USD|EUR|GBP|[$€£¥])$", "")
        x = x.str.replace(r"^\+([0-9.])", "$1")
        if self.opt(f, "decimal_comma"):  # polars' regex has no look-ahead: grouping is matched whole
            grouped = x.str.contains(r"^-?[0-9]{1,3}([. ][0-9]{3})+(,[0-9]*)?$")
            x = pl.select(pl.when(grouped).then(x.str.replace_all(r"[. ]", "")).otherwise(x)).to_series()
            x = pl.select(pl.when(x.str.contains(r"^-?[0-9]*,[0-9]*$")).then(x.str.replace(",", ".", literal=True))
                          .otherwise(x)).to_series()
        else:
            x = pl.select(pl.when(x.str.contains(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$"))
                          .then(x.str.replace_all(",", "", literal=True)).otherwise(x)).to_series()
        ok = x.str.contains(self.PATTERN).fill_null(False)
        flags = [invalid(v, ok, "decimal.invalid", "not a number (use digits, an optional '-' and a '.' for decimals)")]
        flags.append(Flag("decimal.reformatted", "warning", changed(v, x) & ok,
                          "currency sign, digit grouping, decimal comma or other digits were rewritten", x))
        precision, scale = self.opt(f, "precision"), self.opt(f, "scale")
        if precision is not None and scale is None:  # numeric(p) is numeric(p, 0)
            scale = 0
        out = x
        if precision is not None or scale is not None:
            out, rounded, too_big = fit_column(x, ok, precision, scale)
            flags.append(Flag("decimal.out_of_range", "error", too_big,
                              f"too large for {precision} digits with {scale} after the point"))
            flags.append(Flag("decimal.rounded", "warning", rounded,
                              f"rounded to {scale} decimal places (half away from zero)", out))
            ok = ok & ~too_big
        return Outcome(pl.select(pl.when(ok).then(out).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(self.PATTERN, "decimal.invalid")]


def fit_column(x: pl.Series, ok: pl.Series, precision: int | None, scale: int | None
               ) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(values rounded to scale, where rounding changed them, where they do not fit): plain
    values that fit as written are decided by polars, the rest by `fit` once per distinct value."""
    parts = x.str.extract_groups(r"^-?([1-9][0-9]*|0)?(?:\.([0-9]*))?$")
    whole, frac = parts.struct.field("1").fill_null(""), parts.struct.field("2").fill_null("")
    plain = (ok & parts.struct.field("1").is_not_null()) | (ok & x.str.contains(r"^-?\.[0-9]+$"))
    fits = plain & (frac.str.len_chars() <= (scale if scale is not None else 1 << 30))
    if precision is not None:
        digits = pl.select(pl.when(whole == "0").then(0).otherwise(whole.str.len_chars())).to_series()
        fits = fits & (digits <= precision - (scale or 0))
    fits = fits.fill_null(False)
    out, rounded, too_big = x.clone(), false(len(x)), false(len(x))
    todo = (ok & ~fits).arg_true()
    if len(todo):
        sub = x.gather(todo)
        uniq = sub.unique()
        res = [fit(t, precision, scale) for t in uniq.to_list()]
        table = pl.DataFrame({"k": uniq, "o": pl.Series([r[0] for r in res], dtype=pl.String),
                              "r": pl.Series([r[1] for r in res], dtype=pl.Boolean)})
        got = pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")
        out = out.scatter(todo, got["o"].fill_null(sub))
        rounded = rounded.scatter(todo, got["r"])
        too_big = too_big.scatter(todo, got["o"].is_null())
    return out, rounded, too_big


TRUE = {"true", "t", "yes", "y", "1", "on", "x", "checked"}
FALSE = {"false", "f", "no", "n", "0", "off", "unchecked"}


@register
class Boolean(FieldType):
    """Yes/no values written as the target's true/false tokens."""

    name = "boolean"
    options = {"true": "true", "false": "false"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        for key in ("true", "false"):
            if not isinstance(self.opt(f, key), (str, bool)):
                raise ValueError(f"`{key}` must be text (the token written for {key}), not {self.opt(f, key)!r}")
        if token(self.opt(f, "true")) == token(self.opt(f, "false")):
            raise ValueError("`true` and `false` must differ")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        low = v.str.to_lowercase()
        t, fl = token(self.opt(f, "true")), token(self.opt(f, "false"))
        out = pl.select(pl.when(low.is_in(list(TRUE))).then(pl.lit(t))
                        .when(low.is_in(list(FALSE))).then(pl.lit(fl))).to_series()
        flags = [invalid(v, out.is_not_null(), "boolean.invalid", f"not a yes/no value (use {t} or {fl})")]
        return Outcome(pl.select(pl.when(out.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        import pandera.polars as pa

        return [pa.Check.isin([token(self.opt(f, "true")), token(self.opt(f, "false"))], error="boolean.invalid")]


def token(value: object) -> str:
    """A true/false token as text (a YAML boolean as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)
