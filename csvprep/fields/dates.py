"""Dates, date-times, date-or-datetime and time zones."""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, invalid, register

if TYPE_CHECKING:

    from ..schema import Field


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


def parse_dates(v: pl.Series, formats: list[str]) -> pl.Series:
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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        formats = self.opt(f, "input_formats") or DATE_FORMATS[str(self.opt(f, "date_order")).upper()]
        fmt = str(self.opt(f, "format"))
        parsed = parse_dates(v, [fmt, *[x for x in formats if x != fmt]])
        out = parsed.dt.strftime(fmt)
        flags = [invalid(v, parsed.is_not_null(), "date.invalid", f"not a valid date (expected like {example_date(fmt)})")]
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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        parsed, _ = parse_datetimes(v, str(self.opt(f, "timezone")))
        fmt = str(self.opt(f, "format"))
        out = parsed.dt.strftime(fmt)
        flags = [invalid(v, parsed.is_not_null(), "datetime.invalid",
                          "not a valid date and time (expected like 2024-05-01T13:30:00Z)")]
        return Outcome(pl.select(pl.when(parsed.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)


@register
class DateOrDatetime(FieldType):
    """A date (all day, YYYY-MM-DD) or a date-time (RFC 3339; without an offset it stays local)."""

    name = "date_or_datetime"
    options = {"date_order": "MDY"}

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        date = parse_dates(v, DATE_FORMATS[str(self.opt(f, "date_order")).upper()])
        moment, aware = parse_datetimes(v, "UTC")
        out = pl.select(
            pl.when(date.is_not_null()).then(date.dt.strftime("%Y-%m-%d"))
            .when(moment.is_not_null() & aware).then(moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
            .when(moment.is_not_null()).then(moment.dt.strftime("%Y-%m-%dT%H:%M:%S"))
        ).to_series()
        ok = out.is_not_null()
        flags = [Flag("date_or_datetime.invalid", "error", v.is_not_null() & ~ok,
                      "not a date (2024-05-01) or date-time (2024-05-01T13:30:00+02:00)")]
        return Outcome(pl.select(pl.when(ok).then(out).otherwise(v)).to_series().alias(s.name), flags)


@lru_cache(maxsize=1)
def zone_names() -> dict[str, str]:
    """Lower-cased IANA zone name -> canonical spelling."""
    return {z.casefold(): z for z in available_timezones()}


@register
class TimeZone(FieldType):
    """An IANA time zone name such as Europe/Zurich; capitals are fixed."""

    name = "timezone"

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        table = pl.DataFrame({"k": list(zone_names()), "z": list(zone_names().values())})
        key = pl.DataFrame({"k": v.str.to_lowercase().str.replace_all(" ", "_")})
        fixed = key.join(table, on="k", how="left", maintain_order="left")["z"]
        ok = fixed.is_not_null()
        out = pl.select(pl.when(ok).then(fixed).otherwise(v)).to_series().alias(s.name)
        return Outcome(out, [
            Flag("timezone.invalid", "error", v.is_not_null() & ~ok,
                 "not an IANA time zone name (e.g. Europe/Zurich, America/New_York)"),
            Flag("timezone.case_fixed", "warning", changed(v, out), "the zone name was respelled", out),
        ])
