"""Field types: each owns its normalising expression, its checks and its issue codes."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from .schema import Field

if TYPE_CHECKING:  # pandera is imported when a schema is checked, not at start-up
    import pandera.polars as pa


@dataclass
class Flag:
    """An issue raised by a type on the cells where `mask` is true."""

    code: str
    severity: str
    mask: pl.Series
    message: str | pl.Series
    fixed: pl.Series | None = None


@dataclass
class Outcome:
    """Normalised values (null = empty) and the flags raised while normalising."""

    value: pl.Series
    flags: list[Flag] = dc_field(default_factory=list)


@dataclass
class Context:
    """Run-time overrides of type options (from the command line)."""

    region: str | None = None
    phone_format: str | None = None
    escape_formulas: bool = False  # prefix cells that start like a spreadsheet formula with '


TYPES: dict[str, "FieldType"] = {}


def register(cls: type["FieldType"]) -> type["FieldType"]:
    """Class decorator adding a field type to TYPES under its `name`."""
    TYPES[cls.name] = cls()
    return cls


def blank_to_null(s: pl.Series) -> pl.Series:
    """Trim whitespace and turn empty cells into nulls."""
    t = s.cast(pl.String).str.strip_chars()
    return pl.select(pl.when(t == "").then(None).otherwise(t)).to_series().alias(s.name)


def changed(before: pl.Series, after: pl.Series) -> pl.Series:
    """True where a non-empty value was rewritten."""
    return (before.is_not_null() & after.is_not_null() & (before != after)).fill_null(False)


def matches(pattern: str, error: str) -> pa.Check:
    """A pandera check that values match a (Rust-syntax) regex, evaluated by polars."""
    import pandera.polars as pa

    return pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).str.contains(pattern)),
                    error=error)


DISTINCT_MIN_ROWS = 20_000  # shorter columns are normalised as they are
DISTINCT_SHARE = 0.3  # ...and so are columns with more than this share of distinct values


def distinct_index(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(distinct values, the position of each row's value among them): `uniq.gather(index)` is `s`."""
    uniq = s.unique()
    index = s.replace_strict(uniq, pl.int_range(uniq.len(), dtype=pl.UInt32, eager=True), default=None)
    nulls = uniq.is_null().arg_true()
    if len(nulls):  # replace_strict leaves nulls null
        index = index.fill_null(nulls[0])
    return uniq, index


def per_distinct(s: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fn(s)` computed once per distinct value (`fn` must treat each value on its own)."""
    uniq, index = distinct_index(s)
    return fn(uniq).gather(index)


def normalise_distinct(ftype: "FieldType", s: pl.Series, f: Field, ctx: Context) -> Outcome:
    """`ftype.normalise(s)` computed once per distinct value and mapped back to the rows: the
    same outcome (types are functions of the value alone), much cheaper for repetitive columns
    (company names, websites, titles)."""
    n = s.len()
    if not ftype.distinct or n < DISTINCT_MIN_ROWS or s.approx_n_unique() > DISTINCT_SHARE * n:
        return ftype.normalise(s, f, ctx)
    uniq, index = distinct_index(s)
    out = ftype.normalise(uniq, f, ctx)
    flags = [Flag(flag.code, flag.severity, flag.mask.gather(index),
                  flag.message.gather(index) if isinstance(flag.message, pl.Series) else flag.message,
                  flag.fixed.gather(index) if flag.fixed is not None else None)
             for flag in out.flags]
    return Outcome(out.value.gather(index), flags)


class FieldType:
    """Base type: text columns pass through trimmed."""

    name: ClassVar[str] = "base"
    options: ClassVar[dict[str, Any]] = {}
    distinct: ClassVar[bool] = True  # worth normalising once per distinct value (normalise_distinct)

    def check_options(self, f: Field) -> None:
        """Raise ValueError on options this type does not know."""
        unknown = sorted(set(f.options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} for type {self.name} (known: {known})")

    def opt(self, f: Field, key: str) -> Any:
        """A type option from the field, else the type default."""
        return f.options.get(key, self.options.get(key))

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        """Normalised values and flags for one column."""
        return Outcome(blank_to_null(s))

    def checks(self, f: Field) -> list[pa.Check]:
        """Pandera checks that hold for normalised values of this type."""
        return []


@register
class Text(FieldType):
    """Free text: trimmed, inner runs of whitespace collapsed (unless `collapse_spaces: false`)."""

    name = "text"
    options = {"collapse_spaces": True}
    distinct = False  # two cheap passes: mapping distinct values back costs as much

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        if not self.opt(f, "collapse_spaces"):
            return Outcome(blank_to_null(s))
        # one pass finds the values to trim or collapse; only those are rewritten (strip and
        # replace_all copy every value, changed or not)
        v = s.cast(pl.String)
        idx = v.str.contains(r"^\s|\s$|\s\s|[^\S ]").fill_null(False).arg_true()
        if len(idx):
            v = v.scatter(idx, v.gather(idx).str.strip_chars().str.replace_all(r"\s+", " "))
        return Outcome(pl.select(pl.when(v.str.len_bytes() == 0).then(None).otherwise(v)).to_series().alias(s.name))


def _invalid(v: pl.Series, ok: pl.Series, code: str, message: str) -> Flag:
    return Flag(code, "error", (v.is_not_null() & ~ok.fill_null(False)), message)


@register
class Integer(FieldType):
    """Whole numbers; thousands separators and `.0` are fixed with a warning."""

    name = "integer"
    options = {"min": None, "max": None}
    PATTERN = r"^[+-]?\d+$"

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        fixed = v.str.replace(r"^\+", "")
        grouped = fixed.str.contains(r"^-?\d{1,3}([, ]\d{3})+$")
        fixed = pl.select(pl.when(grouped).then(fixed.str.replace_all(r"[, ]", "")).otherwise(fixed)).to_series()
        trailing = fixed.str.contains(r"^-?\d+\.0+$")
        fixed = pl.select(pl.when(trailing).then(fixed.str.replace(r"\.0+$", "")).otherwise(fixed)).to_series()
        fixed = fixed.str.replace(r"^(-?)0+(\d)", "$1$2").str.replace(r"^-0$", "0")
        ok = fixed.str.contains(r"^-?\d{1,18}$")
        flags = [_invalid(v, ok, "integer.invalid", "not a whole number")]
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

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        x = v.str.replace(r"^[$€£¥]\s?|\s?(USD|EUR|GBP|[$€£¥])$", "").str.replace(r"^\+", "")
        x = x.str.replace(r"^([$€£¥])(-)", "$2")
        if self.opt(f, "decimal_comma"):
            x = x.str.replace_all(r"[.\s](?=\d{3}(\D|$))", "").str.replace(",", ".", literal=True)
        else:
            x = pl.select(pl.when(x.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$"))
                          .then(x.str.replace_all(",", "", literal=True)).otherwise(x)).to_series()
        ok = x.str.contains(self.PATTERN)
        flags = [_invalid(v, ok, "decimal.invalid", "not a number (use digits, an optional '-' and a '.' for decimals)")]
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

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        low = v.str.to_lowercase()
        t, fl = str(self.opt(f, "true")), str(self.opt(f, "false"))
        out = pl.select(pl.when(low.is_in(list(TRUE))).then(pl.lit(t))
                        .when(low.is_in(list(FALSE))).then(pl.lit(fl))).to_series()
        flags = [_invalid(v, out.is_not_null(), "boolean.invalid", f"not a yes/no value (use {t} or {fl})")]
        return Outcome(pl.select(pl.when(out.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)

    def checks(self, f: Field) -> list[pa.Check]:
        import pandera.polars as pa

        return [pa.Check.isin([str(self.opt(f, "true")), str(self.opt(f, "false"))], error="boolean.invalid")]


def example_date(fmt: str) -> str:
    """31 May 2024 written in `fmt`, to show users the expected form."""
    import datetime as dt

    try:
        return dt.date(2024, 5, 31).strftime(fmt)
    except ValueError:
        return fmt


DATE_FORMATS = {
    "MDY": ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%d %b %Y", "%b %d, %Y",
            "%d %B %Y", "%B %d, %Y", "%d.%m.%Y"],
    "DMY": ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y", "%d %b %Y", "%b %d, %Y",
            "%d %B %Y", "%B %d, %Y", "%d.%m.%Y"],
}


def _parse_dates(v: pl.Series, formats: list[str]) -> pl.Series:
    tries = [v.str.strptime(pl.Date, fmt, strict=False, exact=True) for fmt in formats]
    return pl.select(pl.coalesce(tries)).to_series() if tries else v.cast(pl.Date, strict=False)


@register
class Date(FieldType):
    """Calendar dates, read in several common formats and written in one."""

    name = "date"
    options = {"format": "%Y-%m-%d", "input_formats": None, "date_order": "MDY"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        if str(self.opt(f, "date_order")).upper() not in DATE_FORMATS:
            raise ValueError("date_order must be MDY or DMY")

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        formats = self.opt(f, "input_formats") or DATE_FORMATS[str(self.opt(f, "date_order")).upper()]
        fmt = str(self.opt(f, "format"))
        parsed = _parse_dates(v, [fmt, *[x for x in formats if x != fmt]])
        out = parsed.dt.strftime(fmt)
        flags = [_invalid(v, parsed.is_not_null(), "date.invalid", f"not a valid date (expected like {example_date(fmt)})")]
        return Outcome(pl.select(pl.when(parsed.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)


DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%.f%z",
                    "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]
NAIVE_FORMATS = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p"]


def parse_datetimes(v: pl.Series, timezone: str = "UTC") -> tuple[pl.Series, pl.Series]:
    """(UTC datetimes, whether the text carried an offset) for RFC 3339-like text."""
    z = v.str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d{2})$", "$1:00")
    aware = [z.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True) for fmt in DATETIME_FORMATS]
    aware_s = pl.select(pl.coalesce(aware)).to_series()
    naive = [v.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in NAIVE_FORMATS]
    naive_s = pl.select(pl.coalesce(naive)).to_series()
    try:
        local = naive_s.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    except Exception:  # unknown zone: treat as UTC, the caller validates the zone itself
        local = naive_s.dt.replace_time_zone("UTC")
    local = local.dt.convert_time_zone("UTC")
    out = pl.select(pl.coalesce([aware_s, local])).to_series()
    return out, aware_s.is_not_null()


@register
class Datetime(FieldType):
    """Points in time: RFC 3339 or common local formats, written in UTC in one format."""

    name = "datetime"
    options = {"format": "%Y-%m-%dT%H:%M:%S.%3fZ", "timezone": "UTC"}

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        parsed, _ = parse_datetimes(v, str(self.opt(f, "timezone")))
        fmt = str(self.opt(f, "format"))
        out = parsed.dt.strftime(fmt)
        flags = [_invalid(v, parsed.is_not_null(), "datetime.invalid",
                          "not a valid date and time (expected like 2024-05-01T13:30:00Z)")]
        return Outcome(pl.select(pl.when(parsed.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)


@register
class Enum(FieldType):
    """One of the field's `choices`; case differences are fixed to the listed spelling."""

    name = "enum"
    options = {"case_sensitive": False}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        if not f.choices:
            raise ValueError("an enum field needs `choices`")

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        if self.opt(f, "case_sensitive"):
            return Outcome(v)
        canon = pl.DataFrame({"k": [c.casefold() for c in f.choices or []], "c": f.choices or []}).unique("k", keep="first")
        key = pl.DataFrame({"k": v.str.to_lowercase()})
        mapped = key.join(canon, on="k", how="left", maintain_order="left")["c"]
        out = pl.select(pl.coalesce([mapped, v])).to_series().alias(s.name)
        return Outcome(out, [Flag("enum.case_fixed", "warning", changed(v, out),
                                  "the choice was written with different capitals", out)])


from . import calendar, emails, phones, urls, wufoo  # noqa: E402,F401  (register their types)
