"""The engine-independent unit: `validate_batch` per batch and `first_occurrences` across them."""
from __future__ import annotations

import random

import polars as pl

import csvprep
from csvprep.validate import first_occurrences, validate_batch


def contact_rows(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    emails = [rng.choice(["a@example.com", "B@example.com", "b@example.com", "not-an-email", "", "c@example.org"])
              for _ in range(n)]
    return pl.DataFrame({"C_EmailAddress": emails, "C_FirstName": [f"n{i}" for i in range(n)]})


def test_validate_batch_is_the_single_process_check():
    frame = contact_rows(300, 1)
    single = csvprep.clean(frame, object="contact")
    rows = frame.with_row_index("_line", offset=2)
    unit = validate_batch(rows, csvprep.resolve_schema("contact"))
    assert unit.clean.drop("_line").equals(single.clean)
    assert unit.rejects.equals(single.rejects)
    assert unit.issues.select("line", "column", "code", "message").equals(
        single.report.issues.select("line", "column", "code", "message").cast(
            {"column": pl.String, "code": pl.String, "message": pl.String}))
    assert unit.read == 300


def test_validate_batch_takes_arrow_and_keeps_no_state():
    rows = contact_rows(50, 2).with_row_index("_line", offset=2).with_columns(pl.col("_line").cast(pl.Int64))
    schema = csvprep.resolve_schema("contact")
    first = validate_batch(rows.to_arrow(), schema)
    again = validate_batch(rows, schema)
    assert first.clean.equals(again.clean) and first.issues.equals(again.issues)
    assert first.keys is not None and set(first.key_firsts["_line"]) <= set(first.clean["_line"])


def test_first_occurrences_against_a_dict():
    rng = random.Random(3)
    cands = pl.DataFrame({"_source": [rng.randrange(3) for _ in range(2000)],
                          "_line": [rng.randrange(2, 10_000) for _ in range(2000)],
                          "k": [str(rng.randrange(300)) for _ in range(2000)]}).unique(["_source", "_line"])
    first: dict[str, tuple[int, int]] = {}
    expected = set()
    for s, line, k in sorted(cands.iter_rows()):
        if k in first:
            expected.add((s, line, *first[k]))
        else:
            first[k] = (s, line)
    found = first_occurrences(cands.sample(fraction=1.0, shuffle=True, seed=4), ["k"])
    assert set(found.iter_rows()) == expected
    assert first_occurrences(cands.head(0), ["k"]).height == 0
