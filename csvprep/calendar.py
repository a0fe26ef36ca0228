"""Google Calendar: date-or-datetime, time zone, email list and recurrence types, and the event shape."""
from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import polars as pl

from .emails import verdicts
from .schema import Field
from .types import (DATE_FORMATS, Context, FieldType, Flag, Outcome, _parse_dates, blank_to_null, changed,
                    parse_datetimes, register)
from .writer import SHAPES

RECURRENCE_RE = r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]\S+$"


@register
class DateOrDatetime(FieldType):
    """A date (all day, YYYY-MM-DD) or a date-time (RFC 3339; without an offset it stays local)."""

    name = "date_or_datetime"
    options = {"date_order": "MDY"}

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        date = _parse_dates(v, DATE_FORMATS[str(self.opt(f, "date_order")).upper()])
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

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
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


def _items(v: pl.Series, split: str) -> pl.DataFrame:
    """One row per list item: (row, item), items trimmed and empty ones dropped."""
    return (pl.DataFrame({"item": v}).with_row_index("row")
            .with_columns(pl.col("item").str.replace_all(split, "\x00").str.split("\x00"))
            .explode("item").with_columns(pl.col("item").str.strip_chars())
            .filter(pl.col("item").is_not_null() & (pl.col("item") != "")))


def _rejoin(v: pl.Series, items: pl.DataFrame, column: str, separator: str) -> pl.Series:
    """Items joined back into one cell per row (null where the row had none)."""
    joined = items.group_by("row", maintain_order=True).agg(pl.col(column).str.join(separator))
    base = pl.DataFrame({"row": pl.int_range(0, len(v), eager=True, dtype=pl.UInt32)})
    return base.join(joined, on="row", how="left", maintain_order="left")[column]


@register
class EmailList(FieldType):
    """Email addresses in one cell (split on `;`, `,` or new lines), each checked, joined by `separator`."""

    name = "email_list"
    options = {"separator": ";", "allow_smtputf8": True}

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        items = _items(v, r"[;,\n]").with_columns(pl.col("item").str.to_lowercase())
        items = items.with_columns(error=verdicts(items["item"], bool(self.opt(f, "allow_smtputf8"))))
        out = _rejoin(v, items, "item", str(self.opt(f, "separator"))).alias(s.name)
        bad = items.filter(pl.col("error").is_not_null()).group_by("row", maintain_order=True).agg(
            pl.format("{} ({})", "item", "error").str.join("; ").alias("msg"))
        base = pl.DataFrame({"row": pl.int_range(0, len(v), eager=True, dtype=pl.UInt32)})
        msg = base.join(bad, on="row", how="left", maintain_order="left")["msg"]
        return Outcome(out, [Flag("email_list.invalid", "error", msg.is_not_null(),
                                  ("not a valid email address: " + msg).fill_null(""))])


@register
class Recurrence(FieldType):
    """RFC 5545 RRULE/EXRULE/RDATE/EXDATE lines in one cell (split on white space), joined by new lines."""

    name = "recurrence"
    options = {"separator": "\n"}

    def normalise(self, s: pl.Series, f: Field, ctx: Context) -> Outcome:
        v = blank_to_null(s)
        items = _items(v, r"\s+").with_columns(  # property names in capitals: rrule:FREQ=DAILY -> RRULE:FREQ=DAILY
            (pl.col("item").str.extract(r"^([A-Za-z]*)", 1).str.to_uppercase()
             + pl.col("item").str.replace(r"^[A-Za-z]*", "")).alias("item"))
        bad = items.filter(~pl.col("item").str.contains(RECURRENCE_RE)).group_by("row", maintain_order=True).agg(
            pl.col("item").str.join(", ").alias("msg"))
        base = pl.DataFrame({"row": pl.int_range(0, len(v), eager=True, dtype=pl.UInt32)})
        msg = base.join(bad, on="row", how="left", maintain_order="left")["msg"]
        out = _rejoin(v, items, "item", str(self.opt(f, "separator"))).alias(s.name)
        return Outcome(out, [Flag("recurrence.invalid", "error", msg.is_not_null(),
                                  ("each line must start with RRULE:, EXRULE:, RDATE: or EXDATE: "
                                   "(DTSTART/DTEND are not allowed): " + msg).fill_null(""))])


def event_resource(row: dict[str, Any]) -> dict[str, Any]:
    """A Calendar API v3 event resource from one clean row."""
    event: dict[str, Any] = {k: row[k] for k in ("id", "summary", "description", "location") if row.get(k)}
    zone = row.get("time_zone")
    for end in ("start", "end"):
        value = row.get(end)
        if value is None:
            continue
        if len(value) == 10:
            event[end] = {"date": value}
        else:
            event[end] = {"dateTime": value, **({"timeZone": zone} if zone else {})}
    if row.get("attendees"):
        event["attendees"] = [{"email": e} for e in row["attendees"].split(";") if e]
    if row.get("recurrence"):
        event["recurrence"] = row["recurrence"].split("\n")
    return event


SHAPES["calendar_event"] = event_resource
