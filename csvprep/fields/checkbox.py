"""Wufoo checkboxes: a checked box carries its label, an unchecked one is blank."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from ..options import Options
from .base import FieldType, Flag, Outcome, blank_to_null, changed, register
from .numeric import FALSE, TRUE

if TYPE_CHECKING:
    from ..schema import Field


@register
class Checkbox(FieldType):
    """A Wufoo checkbox: checked (its label, yes, x, 1, ...) is written as its `label`, unchecked as blank."""

    name = "checkbox"
    options = {"label": None}

    def check_options(self, f: Field) -> None:
        super().check_options(f)
        if not self.opt(f, "label"):
            raise ValueError("a checkbox field needs a `label` (the value of a checked box)")

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        label = str(self.opt(f, "label"))
        v = blank_to_null(s)
        low = v.str.to_lowercase()
        checked = (low.is_in(list(TRUE)) | (low == label.lower())).fill_null(False)
        unchecked = low.is_in(list(FALSE)).fill_null(False)
        out = pl.select(pl.when(checked).then(pl.lit(label)).when(unchecked).then(None)
                        .otherwise(v)).to_series().alias(s.name)
        return Outcome(out, [
            Flag("checkbox.invalid", "error", v.is_not_null() & ~checked & ~unchecked,
                 f"not a checkbox value (use {label!r}, yes/no, or leave it blank)"),
            Flag("checkbox.fixed", "warning", changed(v, out) & checked, f"written as the box's label {label!r}", out),
        ])
