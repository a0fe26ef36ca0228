"""pandera checks: a csvprep schema compiled to a pandera polars schema, and their messages."""
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from .fields import TYPES, matches

if TYPE_CHECKING:  # imported at first use: it takes a good part of start-up
    import pandera.polars as pa

    from .schema import Schema

PANDERA_CODES = {"not_nullable": "field.required"}


def pandera_schema(schema: Schema, type_checks: bool = True, unique: bool = True,
                   only: list[str] | None = None) -> pa.DataFrameSchema:
    """Compile a csvprep schema to a pandera polars schema over text columns."""
    import pandera.polars as pa

    columns = {}
    for f in schema.fields:
        if only is not None and f.name not in only:
            continue
        checks = []
        if f.max_length is not None:
            checks.append(pa.Check.str_length(max_value=f.max_length, error="field.too_long"))
        if f.min_length is not None:
            checks.append(pa.Check.str_length(min_value=f.min_length, error="field.too_short"))
        if f.pattern:
            checks.append(matches(f.pattern, "field.pattern"))
        if f.choices is not None:
            checks.append(pa.Check.isin(list(f.choices), error="field.choices"))
        if type_checks:
            checks.extend(TYPES[f.type].checks(f))
        columns[f.name] = pa.Column(pl.String, checks=checks, nullable=not f.required,
                                    required=f.required if only is None else True)
    return pa.DataFrameSchema(columns, unique=list(schema.key) if unique and schema.key else None,
                              name=f"{schema.connector}/{schema.object}", strict=False)


def message(code: str, schema: Schema, column: str, escaping: bool = False) -> str:
    f = schema.field(column)
    counting = " (counting the ' that --escape-formulas adds to a value that starts like a formula)"
    return {
        "field.required": "a value is required here",
        "field.too_long": f"longer than {f.max_length} characters" + (counting if escaping else ""),
        "field.too_short": f"shorter than {f.min_length} characters",
        "field.pattern": f"does not match the pattern {f.pattern}",
        "field.choices": "not one of the allowed values: " + ", ".join((f.choices or [])[:20]),
    }.get(code, code)
