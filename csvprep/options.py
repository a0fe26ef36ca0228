"""Run options: one `Options` value that the CLI builds once and the library takes."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import SettingsError

CHUNK_BYTES = 12 << 20  # bytes read per batch; batches are prepared two at a time (api.WORKERS)
PHONE_FORMATS = ("E164", "INTERNATIONAL", "NATIONAL")

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Options:
    """How to read the input, override type options and write the outputs.

    Reading: `encoding`, `delimiter` (detected when None), `chunk_bytes`, `progress` (called
    with bytes done and the total); `no_header` (the first row is data), `columns` (names for
    the columns: with `no_header` instead of column_1..N, else instead of the header's),
    `skip_lines` (lines before the header not read at all), `null_values` (cells equal to one
    of them count as empty), `seen` (earlier clean files whose keys count as seen). Types: `region`, `phone_format` (override the schema),
    `escape_formulas`. Clean file: `output_format`, `out_delimiter`, `line_ending`,
    `max_rows`, `max_bytes` (defaults from the schema's `output:`). HTML report: `report_rows`
    N keeps the cells as read of the first N lines of each issue code (`Report.rows`). Connectors that build their
    schema at run time take `connector_options` (e.g. PostgreSQL's `dsn`).
    """

    encoding: str | None = None
    delimiter: str | None = None
    chunk_bytes: int = CHUNK_BYTES
    progress: Progress | None = None
    region: str | None = None
    phone_format: str | None = None
    escape_formulas: bool = False
    output_format: str = "csv"
    out_delimiter: str | None = None
    line_ending: str | None = None
    max_rows: int | None = None
    max_bytes: int | str | None = None
    connector_options: dict[str, Any] | None = None
    report_rows: int | None = None
    no_header: bool = False
    columns: tuple[str, ...] | None = None
    skip_lines: int = 0
    null_values: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.columns, str):  # "a,b,c"
            object.__setattr__(self, "columns", tuple(c.strip() for c in self.columns.split(",")))
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
            if not self.columns or any(not c for c in self.columns):
                raise SettingsError(f"columns must be non-empty names, e.g. a,b,c, not {self.columns!r}")
        if isinstance(self.null_values, str):
            object.__setattr__(self, "null_values", (self.null_values,))
        object.__setattr__(self, "null_values", tuple(self.null_values))
        if isinstance(self.seen, (str, os.PathLike)):
            object.__setattr__(self, "seen", (self.seen,))
        object.__setattr__(self, "seen", tuple(str(p) for p in self.seen))
        if not isinstance(self.skip_lines, int) or self.skip_lines < 0:
            raise SettingsError(f"skip_lines must be a whole number of at least 0, not {self.skip_lines!r}")
        if self.phone_format is not None:
            if str(self.phone_format).upper() not in PHONE_FORMATS:
                raise SettingsError(f"unknown phone format {self.phone_format!r}: use one of {', '.join(PHONE_FORMATS)}")
            object.__setattr__(self, "phone_format", str(self.phone_format).upper())
        if self.region is not None:
            import phonenumbers

            region = str(self.region).upper()
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise SettingsError(f"unknown phone region {self.region!r}: use a two-letter region code such as "
                                    "US, GB or DE (not a calling code)")
            object.__setattr__(self, "region", region)
        if not isinstance(self.chunk_bytes, int) or self.chunk_bytes < 1:
            raise SettingsError(f"the chunk size must be a positive number of bytes, not {self.chunk_bytes!r}")
        if self.report_rows is not None and (not isinstance(self.report_rows, int) or self.report_rows < 1):
            raise SettingsError(f"report_rows must be a whole number of at least 1, not {self.report_rows!r}")
        if self.max_rows is not None and (not isinstance(self.max_rows, int) or self.max_rows < 1):
            raise SettingsError(f"max_rows must be a whole number of at least 1, not {self.max_rows!r}")

    @classmethod
    def build(cls, options: Options | None = None, **overrides: Any) -> Options:
        """`options` (or the defaults) with the named fields replaced; unknown names are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        base = options or cls()
        return replace(base, **overrides) if overrides else base
