"""Apply a schema to a batch of text rows: normalised rows, issues, clean and rejected rows."""
from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from . import formula
from .keys import KeyIndex, first_in_batch
from .reader import LINE, RAW, Batch
from .rules import RULES
from .schema import HeaderMap, Schema, map_header
from .types import TYPES, Context, matches, normalise_distinct

if TYPE_CHECKING:  # imported at first use: it takes a good part of start-up
    import pandera.polars as pa

REASONS = "_reasons"
_NO_BAD = pl.DataFrame(schema={LINE: pl.Int64, RAW: pl.String, REASONS: pl.String})
ISSUE_SCHEMA = {"line": pl.Int64, "column": pl.String, "value": pl.String, "code": pl.String,
                "severity": pl.String, "message": pl.String, "fixed": pl.String}
PANDERA_CODES = {"not_nullable": "field.required"}


def preload_pandera() -> None:
    """Import pandera in a background thread (the first batch needs it only after its types):
    start-up does not wait for it."""
    def load() -> None:
        try:
            importlib.import_module("pandera.polars")
        except Exception:  # no traceback from this thread: the import at first use says what is wrong
            pass

    if "pandera.polars" not in sys.modules:
        threading.Thread(target=load, daemon=True).start()


def empty_issues() -> pl.DataFrame:
    """An issue frame with no rows."""
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def issues_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An issue frame from a list of issue dicts."""
    return pl.DataFrame(rows, schema=ISSUE_SCHEMA) if rows else empty_issues()


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


def _message(code: str, schema: Schema, column: str, escaping: bool = False) -> str:
    f = schema.field(column)
    counting = " (counting the ' that --escape-formulas adds to a value that starts like a formula)"
    return {
        "field.required": "a value is required here",
        "field.too_long": f"longer than {f.max_length} characters" + (counting if escaping else ""),
        "field.too_short": f"shorter than {f.min_length} characters",
        "field.pattern": f"does not match the pattern {f.pattern}",
        "field.choices": "not one of the allowed values: " + ", ".join((f.choices or [])[:20]),
    }.get(code, code)


@dataclass
class Prepared:
    """One batch split into clean and rejected rows, as if no earlier batch had its keys."""

    rows: pl.DataFrame  # the batch's rows as read (late key duplicates are rejected as they are)
    read: int
    issues: pl.DataFrame  # sorted by line
    clean: pl.DataFrame  # the split as if no key repeated an earlier batch's: with LINE
    rejects: pl.DataFrame
    keys: pl.DataFrame | None = None  # key candidates (first_in_batch), when the schema has a key
    own_issues: pl.DataFrame | None = None  # the issues before key duplicates


@dataclass
class Processed:
    """One batch after validation."""

    clean: pl.DataFrame
    rejects: pl.DataFrame
    issues: pl.DataFrame
    read: int
    clean_csv: bytes | None = None  # the clean rows already written as CSV, when the caller asked


class Validator:
    """Validates and normalises batches against a schema (or structure only when there is none)."""

    def __init__(self, schema: Schema | None, header: list[str], header_line: int = 1,
                 ctx: Context | None = None) -> None:
        self.schema = schema
        self.header = header
        self.ctx = ctx or Context()
        self.map: HeaderMap | None = map_header(schema, header, header_line) if schema else None
        self.key: list[str] = []
        if schema and self.map:
            self.fields = [f for f in schema.fields if f.name in self.map.columns]
            self._pandera_for: dict[tuple[str, ...], pa.DataFrameSchema] = {}  # by the columns checked
            if all(k in self.map.columns for k in schema.key):
                self.key = list(schema.key)
        self.seen = KeyIndex(self.key)  # first lines of the keys of earlier batches

    @property
    def output_columns(self) -> list[str]:
        """Column names of the clean file."""
        if self.schema is None or self.map is None:
            return list(self.header)
        return [f.name for f in self.fields]

    def header_issues(self) -> list[dict[str, Any]]:
        """Issues about the header as a whole (unknown and missing columns)."""
        return list(self.map.issues) if self.map else []

    def process(self, batch: Batch) -> Processed:
        """Validate one batch (batches must come in file order: key duplicates span them)."""
        return self.finish(self.prepare(batch))

    def prepare(self, batch: Batch) -> Prepared:
        """Everything about one batch that needs no other batch: types, checks and rules.
        Safe to run for several batches at once in threads (polars releases the GIL)."""
        rows, bad = batch.rows, batch.bad
        issue_parts = [self._structure_issues(bad)]
        if batch.warnings is not None:  # e.g. row.stray_quote
            issue_parts.append(batch.warnings)
        if self.schema is None or self.map is None:
            normalised, parts = formula.guard(rows, rows, {h: h for h in self.header}, self.ctx.escape_formulas)
            issue_parts.extend(parts)
        elif self.map.missing_required:
            normalised = rows.select(LINE, *[pl.col(src).alias(name) for name, src in self.map.columns.items()])
            issue_parts.append(rows.select(
                line=pl.col(LINE), column=pl.lit(None, pl.String), value=pl.lit(None, pl.String),
                code=pl.lit("row.not_loadable"), severity=pl.lit("error"),
                message=pl.lit("rejected because the required column(s) "
                               + ", ".join(self.map.missing_required) + " are missing"),
                fixed=pl.lit(None, pl.String)))
        else:
            normalised, parts = self._apply_types(rows)
            issue_parts.extend(parts)
            at = len(issue_parts)  # pandera's issues come here, but it checks the values as written:
            issue_parts.append(empty_issues())  # after the rules and the formula escape (1 char more)
            for r in self.schema.rules:
                if not all(f in self.map.columns for f in r.fields):
                    continue
                found = RULES[r.type](normalised, r)
                if isinstance(found, tuple):  # a rule may also rewrite values: (issues, frame)
                    found, normalised = found
                found = found.cast(ISSUE_SCHEMA).with_columns(  # name the source column, as type issues do
                    pl.col("column").replace(self.map.columns))
                issue_parts.append(found)
            normalised, parts = formula.guard(rows, normalised, {f.name: self.map.columns[f.name] for f in self.fields},
                                              self.ctx.escape_formulas)
            issue_parts.extend(parts)
            issue_parts[at] = self._pandera_issues(rows, normalised)
        issues = pl.concat([p.cast(ISSUE_SCHEMA) for p in issue_parts])
        keys, own = None, issues
        if self.schema is not None and self.key and self.map is not None and not self.map.missing_required:
            keys = self._key_candidates(normalised, issues)
            issues = pl.concat([issues, self._key_issues(rows, keys.filter(pl.col("first") != pl.col(LINE)))])
        clean, rejects, issues = self._split(rows, bad, normalised, issues)
        return Prepared(rows, rows.height + bad.height, issues, clean, rejects, keys, own)

    def finish(self, p: Prepared) -> Processed:
        """Key duplicates against earlier batches, in file order; the split made in `prepare`
        only changes for the rows whose key an earlier batch already had."""
        clean, rejects, issues = p.clean, p.rejects, p.issues
        if p.keys is not None:
            cand = p.keys
            if len(self.seen):
                cand = cand.with_columns(first_seen=self.seen.first_lines(cand)).with_columns(
                    first=pl.coalesce("first_seen", "first")).drop("first_seen")
            self.seen.add(cand.filter(pl.col("first") == pl.col(LINE)).select(*self.key, "first", "_h"))
            # an earlier batch had some of these keys: those rows are rejected too, and the
            # repeats within the batch now name the earlier line
            if not cand["first"].equals(p.keys["first"]):
                dups = cand.filter(pl.col("first") != pl.col(LINE))
                issues = pl.concat([p.own_issues, self._key_issues(p.rows, dups)]).sort(
                    "line", nulls_last=False, maintain_order=True)
                late = dups.join(p.keys.filter(pl.col("first") != pl.col(LINE)), on=LINE, how="anti")[LINE]
                if late.len():  # clean until now: their key duplicate is their one error
                    clean = clean.filter(~pl.col(LINE).is_in(late.implode()))
                    reasons = self._reasons(issues.filter(pl.col("line").is_in(late.implode())))
                    more = self._rejected(p.rows.join(reasons, on=LINE, how="inner"), _NO_BAD)
                    rejects = pl.concat([rejects, more]).sort(LINE)
        return Processed(clean.drop(LINE), rejects, issues, p.read)

    def forget_keys(self) -> None:
        """Drop the keys of the batches seen so far (after the last batch: frees their memory)."""
        self.seen = KeyIndex(self.key)

    def _structure_issues(self, bad: pl.DataFrame) -> pl.DataFrame:
        return bad.select(
            line=pl.col(LINE), column=pl.lit(None, pl.String), value=pl.col(RAW).str.slice(0, 200),
            code=pl.col("code"), severity=pl.lit("error"), message=pl.col("message"),
            fixed=pl.lit(None, pl.String))

    def _apply_types(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        assert self.map is not None
        values = [rows[LINE]]
        parts = []
        for f in self.fields:
            src = self.map.columns[f.name]
            original = rows[src]
            outcome = normalise_distinct(TYPES[f.type], original, f, self.ctx)
            values.append(outcome.value.alias(f.name))
            for flag in outcome.flags:
                if not flag.mask.any():
                    continue
                keep = flag.mask.fill_null(False)  # filter first: only the flagged rows are built
                cols = {"line": rows[LINE].filter(keep), "value": original.filter(keep)}
                if isinstance(flag.message, pl.Series):
                    cols["message"] = flag.message.filter(keep)
                if flag.fixed is not None:
                    cols["fixed"] = flag.fixed.filter(keep)
                # the constants as literals: a frame holds them as one value, not one per row
                frame = pl.DataFrame(cols).select(
                    "line", column=pl.lit(src, pl.String), value="value", code=pl.lit(flag.code, pl.String),
                    severity=pl.lit(flag.severity, pl.String),
                    message="message" if "message" in cols else pl.lit(flag.message, pl.String),
                    fixed="fixed" if "fixed" in cols else pl.lit(None, pl.String))
                parts.append(frame)
        return pl.DataFrame(values), parts

    def _suspects(self, normalised: pl.DataFrame) -> dict[str, pl.Series] | None:
        """Per column, the rows that may fail its pandera checks (a superset, from the required,
        length and choices rules in one pass); None when a check (a pattern) cannot be foreseen."""
        exprs = []
        for f in self.fields:
            c, conds = pl.col(f.name), []
            if f.pattern:
                return None
            if not f.required and f.max_length is None and f.min_length is None and f.choices is None:
                continue
            if f.required:
                conds.append(c.is_null())
            if f.max_length is not None:  # len_bytes >= len_chars: only those rows can be too long
                conds.append(c.str.len_bytes() > f.max_length)
            if f.min_length is not None:
                conds.append(c.str.len_chars() < f.min_length)
            if f.choices is not None:
                conds.append(~c.is_in(list(f.choices)))
            exprs.append(pl.any_horizontal(conds).fill_null(False).arg_true().implode().alias(f.name))
        if not exprs:
            return {}
        found = normalised.select(exprs).row(0, named=True)
        return {name: pl.Series(idx, dtype=pl.UInt32) for name, idx in found.items() if idx}

    def _pandera_issues(self, rows: pl.DataFrame, normalised: pl.DataFrame) -> pl.DataFrame:
        """pandera's verdicts on the normalised values, as issues. pandera sees only the rows and
        columns a cheap pass cannot clear (its fixed cost per call and column is high); the
        verdicts are the same as on the whole frame (tests/test_pandera_prefilter.py)."""
        assert self.schema is not None and self.map is not None
        suspects = self._suspects(normalised)
        if suspects is None:
            cols, idx = tuple(f.name for f in self.fields), None
            frame = normalised.drop(LINE)
        else:
            if not suspects:
                return empty_issues()
            cols = tuple(suspects)
            idx = pl.concat(list(suspects.values())).unique().sort()
            frame = normalised.select(cols)[idx]
        if cols not in self._pandera_for:
            self._pandera_for[cols] = pandera_schema(self.schema, type_checks=False, unique=False, only=list(cols))
        from pandera.errors import SchemaErrors

        try:
            self._pandera_for[cols].validate(frame, lazy=True)
            return empty_issues()
        except SchemaErrors as exc:
            cases = exc.failure_cases
        cases = cases.filter(pl.col("index").is_not_null() & pl.col("column").is_not_null())
        if cases.height == 0:
            return empty_issues()
        lines = rows[LINE]
        out = []
        for (column, check), group in cases.group_by(["column", "check"], maintain_order=True):
            code = PANDERA_CODES.get(check, check)
            src = self.map.columns[column]
            at = group["index"].cast(pl.UInt32)
            if idx is not None:
                at = idx.gather(at)
            out.append(pl.DataFrame({
                "line": lines.gather(at), "column": [src] * len(at), "value": rows[src].gather(at),
                "code": [code] * len(at), "severity": ["error"] * len(at),
                "message": [_message(code, self.schema, column, self.ctx.escape_formulas)] * len(at),
                "fixed": [None] * len(at),
            }, schema=ISSUE_SCHEMA))
        return pl.concat(out)

    def _key_candidates(self, normalised: pl.DataFrame, issues: pl.DataFrame) -> pl.DataFrame:
        """Rows without errors and with a whole key: `_line`, the key, `_h` and `first` (the first
        line of the key in this batch)."""
        errors = issues.filter(pl.col("severity") == "error")["line"].unique()
        ok = pl.all_horizontal([pl.col(k).is_not_null() for k in self.key])
        if errors.len():
            ok = ok & ~pl.col(LINE).is_in(errors.implode())
        return first_in_batch(normalised.select(LINE, *self.key).filter(ok), self.key)

    def _key_issues(self, rows: pl.DataFrame, dups: pl.DataFrame) -> pl.DataFrame:
        """`key.duplicate` for the rows of `dups` (`_line`, `first`): they repeat the key of an
        earlier clean row (also across batches)."""
        src = self.map.columns[self.key[0]] if self.map else self.key[0]
        original = rows.select(LINE, pl.col(src).alias("_orig"))
        return dups.join(original, on=LINE, how="left").select(
            line=pl.col(LINE), column=pl.lit(src), value=pl.col("_orig"), code=pl.lit("key.duplicate"),
            severity=pl.lit("error"),
            message=pl.format("repeats the key of line {}; the first occurrence is kept", pl.col("first")),
            fixed=pl.lit(None, pl.String)).cast(ISSUE_SCHEMA)

    def _split(self, rows: pl.DataFrame, bad: pl.DataFrame, normalised: pl.DataFrame,
               issues: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(clean rows with LINE, rejected rows with their reasons, issues sorted by line)."""
        reasons = self._reasons(issues)
        keep = ~pl.col(LINE).is_in(reasons[LINE].implode())
        clean = normalised.filter(keep).select(LINE, *self.output_columns)
        rejected_rows = rows.filter(~keep).join(reasons, on=LINE, how="left")
        rejected_bad = bad.select(LINE, RAW).join(reasons, on=LINE, how="left")
        rejects = self._rejected(rejected_rows, rejected_bad).sort(LINE)
        issues = issues.sort("line", nulls_last=False, maintain_order=True)
        return clean, rejects, issues

    @staticmethod
    def _reasons(issues: pl.DataFrame) -> pl.DataFrame:
        """`_line` and `_reasons` ("code (column); ...") of the lines with an error among `issues`."""
        return issues.filter(pl.col("severity") == "error").group_by("line").agg(
            pl.format("{} ({})", pl.col("code"), pl.col("column").fill_null("row")).str.join("; ").alias(REASONS)
        ).rename({"line": LINE})

    def _rejected(self, rows: pl.DataFrame, bad: pl.DataFrame) -> pl.DataFrame:
        """The rejects file's rows: `rows` (cells, `_reasons`) and `bad` (`_raw`, `_reasons`)."""
        return pl.concat([rows.with_columns(pl.lit(None, pl.String).alias(RAW)), bad], how="diagonal").select(
            LINE, REASONS, *self.header, RAW)
