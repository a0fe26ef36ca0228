"""Dates, date-times, date-or-datetime and time zones: read as Python's strptime reads them, zones from tzdata."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, invalid, register

if TYPE_CHECKING:

    from ..schema import Field

# Every value is read as `datetime.strptime` reads it with the formats below, tried in order (the
# first that reads it wins): %Y is four digits, %y two (69-99 are 19xx, 00-68 20xx), a leap second
# (:60) and year 0 are refused. The common ISO shapes are read by polars (the same result, checked
# by tests/test_diff_dates.py); the rest by strptime once per distinct value.
DATE_FORMATS = {
    "MDY": ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y", "%d %b %Y",
            "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d.%m.%Y", "%d.%m.%y"],
    "DMY": ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y", "%d-%m-%y", "%d %b %Y",
            "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d.%m.%Y", "%d.%m.%y"],
}
ISO_DATETIME = [f"%Y-%m-%d{sep}%H:%M{sec}" for sep in ("T", " ") for sec in (":%S.%f", ":%S", "")]
LOCAL_DATETIME = {order: [f"{d} {t}" for d in (f"{a}/{b}/%Y", f"{a}/{b}/%y", f"{a}-{b}-%Y", f"{a}.{b}.%Y")
                          for t in ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")]
                  for order, (a, b) in {"MDY": ("%m", "%d"), "DMY": ("%d", "%m")}.items()}
AWARE_FORMATS = [f + "%z" for f in ISO_DATETIME]
ORDERS = tuple(DATE_FORMATS)
SAFE = {x for formats in DATE_FORMATS.values() for x in formats}  # none reads the ISO shape but %Y-%m-%d

# what polars reads exactly as strptime does (digits fixed in number, seconds 00-59)
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ISO_MOMENT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
OFFSET_AFTER_TIME = r"[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?[+-][0-9]{2}(:?[0-9]{2})?$"
CHRONO_MOMENT = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


def example_date(fmt: str) -> str:
    """31 May 2024 written in `fmt`, to show users the expected form."""
    try:
        return pl.Series([dt.date(2024, 5, 31)]).dt.strftime(fmt).item()
    except Exception:  # noqa: BLE001 - a format polars cannot write is refused when the schema loads
        return fmt


def check_format(fmt: object, kind: str) -> str | None:
    """Why polars cannot write a `kind` ("date" or "datetime") in `fmt` (None when it can)."""
    if not isinstance(fmt, str) or not fmt:
        return "`format` must be a non-empty strftime text such as %Y-%m-%d"
    sample = pl.Series([dt.datetime(2024, 5, 31, 13, 30, 15, 123456)])
    sample = sample.cast(pl.Date) if kind == "date" else sample.dt.replace_time_zone("UTC")
    try:
        sample.dt.strftime(fmt)
    except Exception:  # noqa: BLE001 - polars says only that it cannot
        return f"`format` {fmt!r} is not a {kind} format polars can write (directives such as %Y %m %d %H %M %S)"
    return None


def pre_step(v: pl.Series) -> pl.Series:
    """The spellings read before strptime: a trailing Z is +00:00; after a time, a trailing +HH or
    +HHMM is +HH:MM; fraction digits beyond six (microseconds) are dropped."""
    z = v.str.replace(r"Z$", "+00:00")
    offset = z.str.contains(OFFSET_AFTER_TIME)
    fixed = z.str.replace(r"([+-][0-9]{2}):?([0-9]{2})$", "$1:$2").str.replace(r"([+-][0-9]{2})$", "$1:00")
    z = pl.select(pl.when(offset).then(fixed).otherwise(z)).to_series()
    return z.str.replace(r"(\.[0-9]{6})[0-9]+", "$1")


@lru_cache(maxsize=1 << 16)
def strptime_first(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    """The first of `formats` that `datetime.strptime` reads `text` with (None: none)."""
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:  # not this format (or a directive strptime does not know)
            continue
    return None


def _python_read(v: pl.Series, formats: tuple[str, ...], dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:
    """(strptime_first of each value, whether it carried an offset), once per distinct value:
    dates, or datetimes (those with an offset in UTC, null beyond years 1..9999)."""
    uniq = v.unique().drop_nulls()
    found = [strptime_first(x, formats) for x in uniq.to_list()]
    if dtype == pl.Date:
        vals = [d.date() if d is not None else None for d in found]
    else:
        vals = [_as_utc(d) for d in found]
    table = pl.DataFrame({"k": uniq, "d": pl.Series(vals, dtype=dtype),
                          "aware": pl.Series([d is not None and d.tzinfo is not None for d in found], dtype=pl.Boolean)})
    res = pl.DataFrame({"k": v}).join(table, on="k", how="left", maintain_order="left")
    return res["d"], res["aware"].fill_null(False) & res["d"].is_not_null()


def _as_utc(d: dt.datetime | None) -> dt.datetime | None:
    if d is None or d.tzinfo is None:
        return d
    try:
        return d.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except OverflowError:  # before year 1 or after 9999
        return None


def parse_dates(v: pl.Series, formats: list[str]) -> pl.Series:
    """Dates read from text with the first of `formats` that reads them (null: none does)."""
    out = pl.repeat(None, len(v), dtype=pl.Date, eager=True)
    decided = v.is_null()
    if "%Y-%m-%d" in formats and all(x in SAFE for x in formats[:formats.index("%Y-%m-%d")]):
        # polars reads the ISO shape as strptime does (no format before it reads that shape)
        iso = (v.str.contains(ISO_DATE) & ~v.str.starts_with("0000")).fill_null(False)
        fast = pl.select(pl.when(iso).then(v)).to_series().str.strptime(pl.Date, "%Y-%m-%d", strict=False, exact=True)
        out, decided = fast, decided | fast.is_not_null()
    todo = (~decided).arg_true()
    if len(todo):
        out = out.scatter(todo, _python_read(v.gather(todo), tuple(formats), pl.Date)[0])
    return out.alias(v.name)


def parse_moments(v: pl.Series, local: list[str]) -> tuple[pl.Series, pl.Series]:
    """(datetimes, whether the text carried an offset): aware values in UTC, the rest as written
    (naive). Read with AWARE_FORMATS, then the ISO and `local` naive formats (after `pre_step`)."""
    z = pre_step(v)
    n = len(v)
    out = pl.repeat(None, n, dtype=pl.Datetime("us"), eager=True)
    aware = pl.repeat(False, n, dtype=pl.Boolean, eager=True)
    iso = (z.str.contains(ISO_MOMENT) & ~z.str.starts_with("0000")).fill_null(False)
    has_offset = z.str.contains(r"[+-][0-9]{2}:[0-9]{2}$").fill_null(False)
    decided = v.is_null()
    idx = (iso & has_offset).arg_true()
    if len(idx):  # offsets: polars reads them, the UTC year must stay within 1..9999 as in Python
        x = z.gather(idx)
        utc = pl.select(pl.coalesce([x.str.strptime(pl.Datetime("us", "UTC"), f + "%:z", strict=False, exact=True)
                                     for f in CHRONO_MOMENT])).to_series()
        utc = utc.dt.replace_time_zone(None)
        ok = (utc.dt.year() >= 1).fill_null(False) & (utc.dt.year() <= 9999).fill_null(False)
        utc = pl.select(pl.when(ok).then(utc)).to_series()
        out, aware, decided = (out.scatter(idx, utc), aware.scatter(idx, ok),
                               decided.scatter(idx, utc.is_not_null()))
    idx = (iso & ~has_offset).arg_true()
    if len(idx):
        x = z.gather(idx)
        naive = pl.select(pl.coalesce([x.str.strptime(pl.Datetime("us"), f, strict=False, exact=True)
                                       for f in CHRONO_MOMENT])).to_series()
        out, decided = out.scatter(idx, naive), decided.scatter(idx, naive.is_not_null())
    todo = (~decided).arg_true()
    if len(todo):
        x = z.gather(todo)
        read, offset = _python_read(z.gather(todo), tuple([*AWARE_FORMATS, *ISO_DATETIME, *local]), pl.Datetime("us"))
        out, aware = out.scatter(todo, read), aware.scatter(todo, offset)
    return out.alias(v.name), aware


def to_utc(naive: pl.Series, timezone: str) -> pl.Series:
    """Local wall times in `timezone` (tzdata) as UTC: the earlier of a repeated time, null for a
    skipped one (or beyond years 1..9999)."""
    if timezone == "UTC":
        return naive
    zone = tz(timezone)
    uniq = naive.unique().drop_nulls()
    vals = [_local_to_utc(d, zone) for d in uniq.to_list()]
    table = pl.DataFrame({"k": uniq, "d": pl.Series(vals, dtype=pl.Datetime("us"))})
    return pl.DataFrame({"k": naive}).join(table, on="k", how="left", maintain_order="left")["d"].alias(naive.name)


def _local_to_utc(d: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    try:
        utc = d.replace(tzinfo=zone).astimezone(dt.timezone.utc)
        if utc.astimezone(zone).replace(tzinfo=None) != d:  # skipped by a change of offset
            return None
    except OverflowError:
        return None
    return utc.replace(tzinfo=None)


def local_formats(f: Field, ftype: FieldType) -> list[str]:
    return LOCAL_DATETIME[str(ftype.opt(f, "date_order")).upper()]


def check_order(f: Field, ftype: FieldType) -> None:
    if str(ftype.opt(f, "date_order")).upper() not in ORDERS:
        raise ValueError("date_order must be MDY or DMY")


@register
class Date(FieldType):
    """Calendar dates, read in several common formats and written in one."""

    name = "date"
    options = {"format": "%Y-%m-%d", "input_formats": None, "date_order": "MDY"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        check_order(f, self)
        problem = check_format(self.opt(f, "format"), "date")
        if problem:
            raise ValueError(problem)
        inputs = self.opt(f, "input_formats")
        if inputs is not None:
            if not isinstance(inputs, list) or not all(isinstance(x, str) and x for x in inputs):
                raise ValueError("`input_formats` must be a list of strptime formats")
            for x in inputs:
                if bad_directive(x):
                    raise ValueError(f"`input_formats`: {x!r} is not a strptime format ({bad_directive(x)})")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        formats = self.opt(f, "input_formats") or DATE_FORMATS[str(self.opt(f, "date_order")).upper()]
        fmt = str(self.opt(f, "format"))
        tries = [fmt, *[x for x in formats if x != fmt]] if not bad_directive(fmt) else list(formats)
        parsed = parse_dates(v, tries)
        out = parsed.dt.strftime(fmt)
        flags = [invalid(v, parsed.is_not_null(), "date.invalid", f"not a valid date (expected like {example_date(fmt)})")]
        return Outcome(pl.select(pl.when(parsed.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)


def bad_directive(fmt: str) -> str | None:
    """Why strptime refuses the format `fmt` (None when it takes it)."""
    import _strptime

    try:
        _strptime._TimeRE_cache.compile(fmt)
    except KeyError as exc:
        return f"strptime does not know the directive %{exc.args[0]}"
    except ValueError as exc:
        return str(exc)
    return None


@register
class Datetime(FieldType):
    """Points in time: RFC 3339 or common local formats (in `timezone`), written in UTC in one format."""

    name = "datetime"
    options = {"format": "%Y-%m-%dT%H:%M:%S.%3fZ", "timezone": "UTC", "date_order": "MDY"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        check_order(f, self)
        problem = check_format(self.opt(f, "format"), "datetime")
        if problem:
            raise ValueError(problem)
        zone = self.opt(f, "timezone")
        if not isinstance(zone, str) or zone not in zone_names().values():
            near = zone_names().get(zone.casefold()) if isinstance(zone, str) else None
            hint = f" (did you mean {near!r}?)" if near else ""
            raise ValueError(f"unknown time zone {zone!r}{hint}: use an IANA name from tzdata such as UTC or "
                             "Europe/Zurich")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        moment, aware = parse_moments(v, local_formats(f, self))
        local = pl.select(pl.when(~aware).then(moment)).to_series()
        utc = pl.select(pl.coalesce([pl.when(aware).then(moment), to_utc(local, str(self.opt(f, "timezone")))])).to_series()
        fmt = str(self.opt(f, "format"))
        out = utc.dt.replace_time_zone("UTC").dt.strftime(fmt)
        flags = [invalid(v, utc.is_not_null(), "datetime.invalid",
                         "not a valid date and time (expected like 2024-05-01T13:30:00Z)")]
        return Outcome(pl.select(pl.when(utc.is_not_null()).then(out).otherwise(v)).to_series().alias(s.name), flags)


@register
class DateOrDatetime(FieldType):
    """A date (all day, YYYY-MM-DD) or a date-time (RFC 3339; without an offset it stays local)."""

    name = "date_or_datetime"
    options = {"date_order": "MDY"}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        check_order(f, self)

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        date = parse_dates(v, DATE_FORMATS[str(self.opt(f, "date_order")).upper()])
        rest = pl.select(pl.when(date.is_null()).then(v)).to_series()
        moment, aware = parse_moments(rest, local_formats(f, self))
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
    """Case-folded IANA zone name -> canonical spelling, from the tzdata package (never the
    machine's zone files; `Factory` is not a zone)."""
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return {z.casefold(): z for z in names if z != "Factory"}


@lru_cache(maxsize=1024)
def tz(name: str) -> ZoneInfo:
    """The zone `name` read from the tzdata package."""
    if name not in zone_names().values():
        raise KeyError(name)
    parts = name.split("/")
    with resources.files("tzdata.zoneinfo").joinpath(*parts).open("rb") as fh:
        return ZoneInfo.from_file(fh, key=name)


@register
class TimeZone(FieldType):
    """An IANA time zone name such as Europe/Zurich (from tzdata); capitals are fixed."""

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
