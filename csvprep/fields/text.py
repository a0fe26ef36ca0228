"""Free text and enumerations."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, register

if TYPE_CHECKING:

    from ..schema import Field


@register
class Text(FieldType):
    """Free text: trimmed, inner runs of whitespace collapsed (unless `collapse_spaces: false`)."""

    name = "text"
    options = {"collapse_spaces": True}
    distinct = False  # two cheap passes: mapping distinct values back costs as much

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        if not self.opt(f, "collapse_spaces"):
            return Outcome(blank_to_null(s))
        # one pass finds the values to trim or collapse; only those are rewritten (strip and
        # replace_all copy every value, changed or not)
        v = s.cast(pl.String)
        idx = v.str.contains(r"^\s|\s$|\s\s|[^\S ]").fill_null(False).arg_true()
        if len(idx):
            v = v.scatter(idx, v.gather(idx).str.strip_chars().str.replace_all(r"\s+", " "))
        return Outcome(pl.select(pl.when(v.str.len_bytes() == 0).then(None).otherwise(v)).to_series().alias(s.name))



def casefold(v: pl.Series) -> pl.Series:
    """str.casefold of each value: polars' to_lowercase where that is the same (ASCII), Python's
    casefold once per distinct value for the rest."""
    out = v.str.to_lowercase()
    idx = (v.str.len_bytes() != v.str.len_chars()).fill_null(False).arg_true()
    if len(idx):
        sub = v.gather(idx)
        uniq = sub.unique()
        table = pl.DataFrame({"k": uniq, "f": pl.Series([x.casefold() if x is not None else None
                                                          for x in uniq.to_list()], dtype=pl.String)})
        out = out.scatter(idx, pl.DataFrame({"k": sub}).join(table, on="k", how="left", maintain_order="left")["f"])
    return out


@register
class Enum(FieldType):
    """One of the field's `choices`; case differences are fixed to the listed spelling."""

    name = "enum"
    options = {"case_sensitive": False}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        if not f.choices:
            raise ValueError("an enum field needs `choices`")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        v = blank_to_null(s)
        if self.opt(f, "case_sensitive"):
            return Outcome(v)
        # both sides folded alike (casefold: STRASSE, straße and Straße are one choice), once per distinct value
        canon = pl.DataFrame({"k": [c.casefold() for c in f.choices or []], "c": f.choices or []}).unique(
            "k", keep="first", maintain_order=True)
        key = pl.DataFrame({"k": casefold(v)})
        mapped = key.join(canon, on="k", how="left", maintain_order="left")["c"]
        out = pl.select(pl.coalesce([mapped, v])).to_series().alias(s.name)
        return Outcome(out, [Flag("enum.case_fixed", "warning", changed(v, out),
                                  "the choice was written with different capitals", out)])
