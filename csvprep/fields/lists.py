"""Values that hold a list: email lists and recurrence rules."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, register
from .emails import verdicts

RECURRENCE_RE = r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]\S+$"

if TYPE_CHECKING:
    from ..schema import Field


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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
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

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
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
