"""pandera sees only the suspect rows and columns, and finds exactly what it finds on the whole frame."""
from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pandera.errors import SchemaErrors

from csvprep.schema import Field, Schema
from csvprep.checks import PANDERA_CODES, pandera_schema
from csvprep.checks import message as _message
from csvprep.issues import ISSUE_SCHEMA
from csvprep.validate import Validator

FIELDS = [
    Field(name="a", required=True, max_length=3),
    Field(name="b", min_length=2, max_length=4),
    Field(name="c", choices=["red", "Green"]),
    Field(name="d"),
]
CELLS = st.one_of(st.none(), st.sampled_from(["", "x", "ab", "abc", "abcd", "abcde", "é", "éé", "ééé", "éééé",
                                             "red", "Green", "green", "漢字漢字", "  "]))


def whole_frame_issues(v: Validator, rows: pl.DataFrame, normalised: pl.DataFrame) -> pl.DataFrame:
    """The issues as pandera finds them on every row and column (the behaviour before the prefilter)."""
    schema = pandera_schema(v.schema, type_checks=False, unique=False, only=[f.name for f in v.fields])
    try:
        schema.validate(normalised.drop("_line"), lazy=True)
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    except SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null() & pl.col("column").is_not_null())
    out = [pl.DataFrame({
        "line": rows["_line"].gather(g["index"]), "column": column, "value": rows[column].gather(g["index"]),
        "code": PANDERA_CODES.get(check, check), "severity": "error",
        "message": _message(PANDERA_CODES.get(check, check), v.schema, column), "fixed": None,
    }, schema=ISSUE_SCHEMA) for (column, check), g in cases.group_by(["column", "check"], maintain_order=True)]
    return pl.concat(out) if out else pl.DataFrame(schema=ISSUE_SCHEMA)


def frames(cells: list[list[str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    cols = ["a", "b", "c", "d"]
    rows = pl.DataFrame({"_line": list(range(2, len(cells) + 2)),
                         **{c: [r[i] for r in cells] for i, c in enumerate(cols)}},
                        schema={"_line": pl.Int64, **dict.fromkeys(cols, pl.String)})
    return rows, rows


def ordered(issues: pl.DataFrame) -> list[tuple]:
    return sorted(issues.rows(), key=lambda r: tuple("" if x is None else str(x) for x in r))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=4, max_size=4), max_size=30), st.booleans())
def test_prefiltered_pandera_finds_what_whole_frame_pandera_finds(cells: list, with_pattern: bool) -> None:
    fields = FIELDS + ([Field(name="e", pattern="^[a-z]*$")] if with_pattern else [])
    rows, normalised = frames(cells)
    if with_pattern:
        rows = rows.with_columns(e=pl.col("a"))
        normalised = rows
    v = Validator(Schema(object="t", fields=fields), [c for c in rows.columns if c != "_line"])
    got = v.pandera_issues(rows, normalised)
    assert ordered(got) == ordered(whole_frame_issues(v, rows, normalised))


def test_only_suspect_columns_reach_pandera() -> None:
    rows, normalised = frames([["abc", "ab", "red", "x" * 50], [None, "abcdef", "Green", ""]])
    v = Validator(Schema(object="t", fields=FIELDS), ["a", "b", "c", "d"])
    suspects = v.suspects(normalised)
    assert {k: s.to_list() for k, s in suspects.items()} == {"a": [1], "b": [1]}
    got = v.pandera_issues(rows, normalised)
    assert sorted(got.select("line", "code").rows()) == [(3, "field.required"), (3, "field.too_long")]
    assert list(v.pandera_for) == [("a", "b")]
