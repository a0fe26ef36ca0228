"""Values that hold a list: email lists and recurrence rules."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, register
from .dates import zone_names
from .emails import normalised, verdicts

RECURRENCE_RE = r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]\S+$"

if TYPE_CHECKING:
    from ..schema import Field


def _items(v: pl.Series, item: str) -> pl.DataFrame:
    """One row per list item (a match of the pattern `item`): (row, item), items trimmed and
    empty ones dropped. Matching the items keeps every character of the cell (a NUL too)."""
    return (pl.DataFrame({"item": v}).with_row_index("row")
            .with_columns(pl.col("item").str.extract_all(item))
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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        items = _items(v, r"[^;,\n]+").with_columns(pl.col("item").str.to_lowercase())
        smtputf8 = bool(self.opt(f, "allow_smtputf8"))
        items = items.with_columns(error=verdicts(items["item"], smtputf8))
        items = items.with_columns(item=normalised(items["item"], items["error"], smtputf8))
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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        # items between white space as Python's str.split sees it; property names in capitals
        items = _items(v, r"[^\s\x1c-\x1f]+").with_columns(  # rrule:FREQ=DAILY -> RRULE:FREQ=DAILY
            (pl.col("item").str.extract(r"^([A-Za-z]*)", 1).str.to_uppercase()
             + pl.col("item").str.replace(r"^[A-Za-z]*", "")).alias("item"))
        uniq = items["item"].unique()
        problems = pl.DataFrame({"item": uniq, "problem": pl.Series([rule_problem(x) for x in uniq.to_list()],
                                                                    dtype=pl.String)})
        items = items.join(problems, on="item", how="left", maintain_order="left")
        bad = items.filter(pl.col("problem").is_not_null()).group_by("row", maintain_order=True).agg(
            pl.format("{} ({})", "item", "problem").str.join(", ").alias("msg"))
        base = pl.DataFrame({"row": pl.int_range(0, len(v), eager=True, dtype=pl.UInt32)})
        msg = base.join(bad, on="row", how="left", maintain_order="left")["msg"]
        out = _rejoin(v, items, "item", str(self.opt(f, "separator"))).alias(s.name)
        return Outcome(out, [Flag("recurrence.invalid", "error", msg.is_not_null(),
                                  ("not an RFC 5545 rule (each line RRULE:, EXRULE:, RDATE: or EXDATE:, "
                                   "read by python-dateutil; DTSTART/DTEND are not allowed): " + msg).fill_null(""))])


_TZID = re.compile(r";TZID=([^;:]+)", re.IGNORECASE)


@lru_cache(maxsize=1 << 14)
def rule_problem(item: str) -> str | None:
    """Why one recurrence line is refused (None: python-dateutil's rrulestr reads it, with a
    floating or a UTC start; a TZID must name a tzdata zone and is then left out of the reading)."""
    import datetime as dt
    import warnings

    from dateutil.rrule import rrulestr

    if not re.match(RECURRENCE_RE, item):
        return "not RRULE:, EXRULE:, RDATE: or EXDATE:"
    for zone in _TZID.findall(item):
        if zone not in zone_names().values():
            return f"unknown time zone {zone}"
    text = _TZID.sub("", item)
    problem = None
    for start in (dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rrulestr(text, dtstart=start, forceset=True)
            return None
        except (ValueError, TypeError, OverflowError, KeyError, IndexError) as exc:
            problem = str(exc) or type(exc).__name__
    return problem
