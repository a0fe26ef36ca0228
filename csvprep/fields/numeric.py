"""Whole numbers, decimals and booleans."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, invalid, matches, register

if TYPE_CHECKING:
    import pandera.polars as pa

    from ..schema import Field


@register
class Integer(FieldType):
    """Whole numbers; thousands separators and `.0` are fixed with a warning."""

    name = "integer"
    options = {"min": None, "max": None}
    PATTERN = r"^[+-]?\d+$"

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        fixed = v.str.replace(r"^\+", "")
        grouped = fixed.str.contains(r"^-?\d{1,3}([, ]\d{3})+$")
        fixed = pl.select(pl.when(grouped).then(fixed.str.replace_all(r"[, ]", "")).otherwise(fixed)).to_series()
        trailing = fixed.str.contains(r"^-?\d+\.0+$")
        fixed = pl.select(pl.when(trailing).then(fixed.str.replace(r"\.0+$", "")).otherwise(fixed)).to_series()
        fixed = fixed.str.replace(r"^(-?)0+(\d)", "$1$2").str.replace(r"^-0$", "0")
        ok = fixed.str.contains(r"^-?\d{1,18}$")
        flags = [invalid(v, ok, "integer.invalid", "not a whole number")]
        lo, hi = self.opt(f, "min"), self.opt(f, "max")
        if lo is not None or hi is not None:
            num = pl.select(pl.when(ok).then(fixed).otherwise(None)).to_series().cast(pl.Int64, strict=False)
            out = pl.Series([False] * len(num), dtype=pl.Boolean)
            if lo is not None:
                out = out | (num < lo).fill_null(False)
            if hi is not None:
                out = out | (num > hi).fill_null(False)
            flags.append(Flag("integer.out_of_range", "error", out,
                              f"outside the allowed range {lo if lo is not None else '…'}..{hi if hi is not None else '…'}"))
        mask = changed(v, fixed) & ok.fill_null(False) & (grouped | trailing).fill_null(False)
        flags.append(Flag("integer.reformatted", "warning", mask,
                          "digit grouping or a zero fraction was removed", fixed))
        return Outcome(pl.select(pl.when(ok).then(fixed).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(self.PATTERN, "integer.invalid")]


@register
class Decimal(FieldType):
    """Decimal numbers; grouping, currency signs and decimal commas are fixed with a warning."""

    name = "decimal"
    options = {"precision": None, "scale": None, "decimal_comma": False}
    PATTERN = r"^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        x = v.str.replace(r"^[$€£¥]\s?|\s?(USD|EUR|GBP|[$€£¥])$", "").str.replace(r"^\+", "")
        x = x.str.replace(r"^([$€£¥])(-)", "$2")
        if self.opt(f, "decimal_comma"):
            x = x.str.replace_all(r"[.\s](?=\d{3}(\D|$))", "").str.replace(",", ".", literal=True)
        else:
            x = pl.select(pl.when(x.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$"))
                          .then(x.str.replace_all(",", "", literal=True)).otherwise(x)).to_series()
        ok = x.str.contains(self.PATTERN)
        flags = [invalid(v, ok, "decimal.invalid", "not a number (use digits, an optional '-' and a '.' for decimals)")]
        precision, scale = self.opt(f, "precision"), self.opt(f, "scale")
        if precision is not None:
            scale = scale or 0
            num = pl.select(pl.when(ok).then(x).otherwise(None)).to_series().cast(pl.Float64, strict=False)
            too_big = (num.abs().round(scale) >= 10 ** (precision - scale)).fill_null(False)
            flags.append(Flag("decimal.out_of_range", "error", too_big,
                              f"too large for {precision} digits with {scale} after the point"))
        mask = changed(v, x) & ok.fill_null(False)
        flags.append(Flag("decimal.reformatted", "warning", mask,
                          "currency sign, digit grouping or decimal comma was removed", x))
        return Outcome(pl.select(pl.when(ok).then(x).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        return [matches(self.PATTERN, "decimal.invalid")]


TRUE = {"true", "t", "yes", "y", "1", "on", "x", "checked"}
FALSE = {"false", "f", "no", "n", "0", "off", "unchecked"}


@register
class Boolean(FieldType):
    """Yes/no values written as the target's true/false tokens."""

    name = "boolean"
    options = {"true": "true", "false": "false"}

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        low = v.str.to_lowercase()
        t, fl = str(self.opt(f, "true")), str(self.opt(f, "false"))
        out = pl.select(pl.when(low.is_in(list(TRUE))).then(pl.lit(t))
                        .when(low.is_in(list(FALSE))).then(pl.lit(fl))).to_series()
        flags = [invalid(v, out.is_not_null(), "boolean.invalid", f"not a yes/no value (use {t} or {fl})")]
        return Outcome(pl.select(pl.when(out.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        import pandera.polars as pa

        return [pa.Check.isin([str(self.opt(f, "true")), str(self.opt(f, "false"))], error="boolean.invalid")]
