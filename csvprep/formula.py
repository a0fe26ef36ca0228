"""Spreadsheet formula injection: cells a spreadsheet could run as a formula, flagged or escaped."""
from __future__ import annotations

import polars as pl

from .issues import LINE, issues_at

CODE = "text.formula"
# OWASP CSV injection: a cell starting with one of these may be run as a formula by a spreadsheet.
TRIGGER = r"^[=+\-@\t\r]"
# A signed number, amount or phone number (+1 303 555 0100, -12.5, -$1,000, +44 (20) 7946 0958
# ext. 12) or a dash placeholder cannot call a function; phones written in E.164 by the phone
# type always look like this.
NUMERIC = r"^(?:-+|[+-]\s?[$€£¥]?[\d\s().,/-]*\d[\d\s().,/-]*(?:\s*(?:ext\.?|x|#)\s*\d+)?)$"
ESCAPE = "'"  # OWASP: prefix with a single quote so the cell is read as text
_SHOWN = {"=": "'='", "+": "'+'", "-": "'-'", "@": "'@'", "\t": "a tab", "\r": "a carriage return"}


def risky(values: pl.Series) -> pl.Series:
    """True where a value starts like a formula and is not a plain signed number or phone."""
    v = values.cast(pl.String)
    starts = v.str.contains(TRIGGER).fill_null(False)
    idx = starts.arg_true()  # the second, costlier pattern only where the first matched...
    if not len(idx):
        return starts
    if 2 * len(idx) > len(v):  # ...unless most did (E.164 phones): no gather and scatter then
        return starts & ~v.str.contains(NUMERIC).fill_null(False)
    return starts.scatter(idx, ~v.gather(idx).str.contains(NUMERIC))


def guard(rows: pl.DataFrame, values: pl.DataFrame, columns: dict[str, str], escape: bool,
          ) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Flag `text.formula` (warning) on `values` columns whose cells start like a formula.

    `columns` maps each output column of `values` to its source column in `rows` (named in the
    issue, with the original cell as its value). With `escape`, such cells get a leading `'`
    and the issue's `fixed` holds the escaped text.
    """
    issues: list[pl.DataFrame] = []
    replaced: list[pl.Series] = []
    for out, src in columns.items():
        col = values[out]
        if col.dtype != pl.String:
            continue
        mask = risky(col)
        if not mask.any():
            continue
        fixed = pl.select(pl.when(mask).then(pl.lit(ESCAPE) + col).otherwise(col)).to_series().alias(out)
        first = col.filter(mask).str.slice(0, 1).replace(_SHOWN)
        suffix = "; a leading ' was added" if escape else " (use --escape-formulas to neutralise it)"
        message = pl.select(pl.lit("starts with ") + first + pl.lit(": a spreadsheet may run it as a formula" + suffix)
                            ).to_series()
        issues.append(issues_at(
            rows[LINE].filter(mask), src,
            rows[src].cast(pl.String).filter(mask) if src in rows.columns else col.filter(mask),
            CODE, "warning", message, fixed.filter(mask) if escape else None))
        if escape:
            replaced.append(fixed)
    if replaced:
        values = values.with_columns(replaced)
    return values, issues
