"""Shared pieces of the differential tests (test_diff_*.py): sizes, and running one field type."""
from __future__ import annotations

import os
from typing import Any

import polars as pl
from hypothesis import HealthCheck, settings

from csvprep.fields import TYPES
from csvprep.options import Options
from csvprep.schema import Field

# values compared per test in CI; CSVPREP_DIFF_EXAMPLES=20000 for a long run
EXAMPLES = int(os.environ.get("CSVPREP_DIFF_EXAMPLES", "1500"))
BATCH = 40  # values per hypothesis example: the type runs on a column, as in a file


def diff_settings(total: int = EXAMPLES) -> settings:
    """Hypothesis settings for about `total` values in batches of BATCH."""
    # CI's run is derandomized (the same examples each time); a long run (CSVPREP_DIFF_EXAMPLES) explores
    return settings(max_examples=max(10, total // BATCH), deadline=None, database=None,
                    derandomize="CSVPREP_DIFF_EXAMPLES" not in os.environ,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run_type(type_name: str, values: list[str | None], options: Options | None = None,
             **field_options: Any) -> list[tuple[str | None, set[str]]]:
    """(written value, set of error codes) per value, from the type's normalise on one column."""
    f = Field(name="x", type=type_name, options=field_options)
    TYPES[type_name].check_options(f)
    out = TYPES[type_name].normalise(pl.Series("x", values, dtype=pl.String), f, options or Options())
    codes: list[set[str]] = [set() for _ in values]
    for flag in out.flags:
        for i in flag.mask.fill_null(False).arg_true().to_list():
            codes[i].add(flag.code if flag.severity == "error" else "~" + flag.code)
    return list(zip(out.value.to_list(), codes))


def errors(codes: set[str]) -> set[str]:
    """The error codes among `codes` (warnings are marked with ~)."""
    return {c for c in codes if not c.startswith("~")}


def mismatches(got: list[tuple[str | None, set[str]]], want: list[tuple[str | None, bool]],
               values: list[Any]) -> list[tuple[Any, Any, Any]]:
    """(input, csvprep's, reference's) where csvprep's value or error verdict differs; `want` is
    (value, is_error) per input (the value is not compared for errors)."""
    bad = []
    for x, (value, codes), (ref, ref_error) in zip(values, got, want):
        is_error = bool(errors(codes))
        if is_error != ref_error or (not ref_error and value != ref):
            bad.append((x, (value, sorted(codes)), (ref, ref_error)))
    return bad
