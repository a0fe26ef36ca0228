"""The field-type base class, its registry and the helpers every type uses."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from ..options import Options

if TYPE_CHECKING:  # pandera is imported when a schema is checked, not at start-up
    import pandera.polars as pa

    from ..schema import Field


@dataclass
class Flag:
    """An issue raised by a type on the cells where `mask` is true."""

    code: str
    severity: str
    mask: pl.Series
    message: str | pl.Series
    fixed: pl.Series | None = None


@dataclass
class Outcome:
    """Normalised values (null = empty) and the flags raised while normalising."""

    value: pl.Series
    flags: list[Flag] = dc_field(default_factory=list)


TYPES: dict[str, "FieldType"] = {}


def register(cls: type["FieldType"]) -> type["FieldType"]:
    """Class decorator adding a field type to TYPES under its `name`."""
    TYPES[cls.name] = cls()
    return cls


def blank_to_null(s: pl.Series) -> pl.Series:
    """Trim whitespace and turn empty cells into nulls."""
    t = s.cast(pl.String).str.strip_chars()
    return pl.select(pl.when(t == "").then(None).otherwise(t)).to_series().alias(s.name)


def changed(before: pl.Series, after: pl.Series) -> pl.Series:
    """True where a non-empty value was rewritten."""
    return (before.is_not_null() & after.is_not_null() & (before != after)).fill_null(False)


def matches(pattern: str, error: str) -> pa.Check:
    """A pandera check that values match a (Rust-syntax) regex, evaluated by polars."""
    import pandera.polars as pa

    return pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).str.contains(pattern)),
                    error=error)


DISTINCT_MIN_ROWS = 20_000  # shorter columns are normalised as they are
DISTINCT_SHARE = 0.3  # ...and so are columns with more than this share of distinct values


def distinct_index(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(distinct values, the position of each row's value among them): `uniq.gather(index)` is `s`."""
    uniq = s.unique()
    index = s.replace_strict(uniq, pl.int_range(uniq.len(), dtype=pl.UInt32, eager=True), default=None)
    nulls = uniq.is_null().arg_true()
    if len(nulls):  # replace_strict leaves nulls null
        index = index.fill_null(nulls[0])
    return uniq, index


def per_distinct(s: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fn(s)` computed once per distinct value (`fn` must treat each value on its own)."""
    uniq, index = distinct_index(s)
    return fn(uniq).gather(index)


def normalise_distinct(ftype: "FieldType", s: pl.Series, f: Field, ctx: Options) -> Outcome:
    """`ftype.normalise(s)` computed once per distinct value and mapped back to the rows: the
    same outcome (types are functions of the value alone), much cheaper for repetitive columns
    (company names, websites, titles)."""
    n = s.len()
    if not ftype.distinct or n < DISTINCT_MIN_ROWS or s.approx_n_unique() > DISTINCT_SHARE * n:
        return ftype.normalise(s, f, ctx)
    uniq, index = distinct_index(s)
    out = ftype.normalise(uniq, f, ctx)
    flags = [Flag(flag.code, flag.severity, flag.mask.gather(index),
                  flag.message.gather(index) if isinstance(flag.message, pl.Series) else flag.message,
                  flag.fixed.gather(index) if flag.fixed is not None else None)
             for flag in out.flags]
    return Outcome(out.value.gather(index), flags)


class FieldType:
    """Base type: text columns pass through trimmed."""

    name: ClassVar[str] = "base"
    options: ClassVar[dict[str, Any]] = {}
    distinct: ClassVar[bool] = True  # worth normalising once per distinct value (normalise_distinct)

    def check_options(self, f: Field) -> None:
        """Raise ValueError on options this type does not know."""
        unknown = sorted(set(f.options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} for type {self.name} (known: {known})")
        for key, value in f.options.items():  # options with a default take values of its kind
            default = self.options.get(key)
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ValueError(f"`{key}` must be true or false, not {value!r}")
            if isinstance(default, str) and not isinstance(value, str) and key not in ("true", "false"):
                raise ValueError(f"`{key}` must be text, not {value!r}")

    def opt(self, f: Field, key: str) -> Any:
        """A type option from the field, else the type default."""
        return f.options.get(key, self.options.get(key))

    def normalise(self, s: pl.Series, f: Field, ctx: Options) -> Outcome:
        """Normalised values and flags for one column."""
        return Outcome(blank_to_null(s))

    def checks(self, f: Field) -> list[pa.Check]:
        """Pandera checks that hold for normalised values of this type."""
        return []



def invalid(v: pl.Series, ok: pl.Series, code: str, message: str) -> Flag:
    """An error flag where a non-empty value is not `ok`."""
    return Flag(code, "error", (v.is_not_null() & ~ok.fill_null(False)), message)
