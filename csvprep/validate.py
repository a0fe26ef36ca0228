"""Apply a schema to a batch of text rows: normalised rows, issues, clean and rejected rows."""
from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from . import formula
from .checks import PANDERA_CODES, message, pandera_schema
from .errors import InputError, SettingsError
from .fields import TYPES, normalise_distinct
from .issues import LINE, RAW, REASONS, conform, empty_issues, issues_at
from .keys import KeyIndex, first_in_batch
from .options import Options
from .reader import Batch, CsvReader
from .rules import RULES
from .schema import HeaderMap, Schema, map_header

if TYPE_CHECKING:  # imported at first use: it takes a good part of start-up
    import pandera.polars as pa

SEEN_SHIFT = 40  # an earlier clean file's line is kept as -(file << SEEN_SHIFT | line)
_NO_BAD = pl.DataFrame(schema={LINE: pl.Int64, RAW: pl.String, REASONS: pl.String})


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


@dataclass
class BatchResult:
    """One batch validated on its own (`validate_batch`), as if no other batch had its keys."""

    clean: pl.DataFrame  # the clean rows, normalised, with LINE
    rejects: pl.DataFrame  # the rejected rows as read: LINE, REASONS, the source columns, RAW
    issues: pl.DataFrame  # sorted by line
    keys: pl.DataFrame | None  # key candidates (first_in_batch: LINE, key, `_h`, `first`), when there is a key
    read: int = 0  # records read (rows and structurally bad rows)
    rows: pl.DataFrame | None = None  # the batch's rows as read (late key duplicates are rejected as they are)
    own_issues: pl.DataFrame | None = None  # the issues before key duplicates

    @property
    def key_firsts(self) -> pl.DataFrame | None:
        """The candidates that are the first of their key in the batch: the ones another batch may repeat."""
        return None if self.keys is None else self.keys.filter(pl.col("first") == pl.col(LINE))


Prepared = BatchResult  # the name the single-process path uses


@dataclass
class Processed:
    """One batch after validation."""

    clean: pl.DataFrame
    rejects: pl.DataFrame
    issues: pl.DataFrame
    read: int
    clean_csv: bytes | None = None  # the clean rows already written as CSV, when the caller asked
    lines: pl.Series | None = None  # the source lines of the clean rows


class Validator:
    """Validates and normalises batches against a schema (or structure only when there is none)."""

    def __init__(self, schema: Schema | None, header: list[str], header_line: int = 1,
                 options: Options | None = None) -> None:
        self.schema = schema
        self.header = header
        self.options = options or Options()
        # no header line (header_line 0): the header's issues are about the file
        self.map: HeaderMap | None = map_header(schema, header, header_line or None) if schema else None  # type: ignore[arg-type]
        self.key: list[str] = []
        if schema and self.map:
            self.fields = [f for f in schema.fields if f.name in self.map.columns]
            self.pandera_for: dict[tuple[str, ...], pa.DataFrameSchema] = {}  # by the columns checked
            if all(k in self.map.columns for k in schema.key):
                self.key = list(schema.key)
        self.seen = KeyIndex(self.key)  # first lines of the keys of earlier batches
        self.seen_files: list[str] = []  # earlier clean files whose keys count as seen (remember)

    @property
    def output_columns(self) -> list[str]:
        """Column names of the clean file."""
        if self.schema is None or self.map is None:
            return list(self.header)
        return [f.name for f in self.fields]

    def header_issues(self) -> list[dict[str, Any]]:
        """Issues about the header as a whole (unknown and missing columns)."""
        return list(self.map.issues) if self.map else []

    def prepare(self, batch: Batch) -> Prepared:
        """Everything about one batch that needs no other batch: types, checks and rules.
        Safe to run for several batches at once in threads (polars releases the GIL)."""
        rows, bad = batch.rows, batch.bad
        values = self._nulls(rows)  # `null_values` read as empty cells (the rejects keep them)
        issue_parts = [self._structure_issues(bad)]
        if batch.warnings is not None:  # e.g. row.stray_quote
            issue_parts.append(batch.warnings)
        if self.schema is None or self.map is None:
            normalised, parts = formula.guard(rows, values, {h: h for h in self.header}, self.options.escape_formulas)
            # an empty cell is written as an unquoted empty cell (read as NULL by COPY), as with a schema
            normalised = normalised.with_columns(
                [pl.when(pl.col(h) != "").then(pl.col(h)).alias(h) for h in self.header])
            issue_parts.extend(parts)
        elif self.map.missing_required:
            normalised = rows.select(LINE, *[pl.col(src).alias(name) for name, src in self.map.columns.items()])
            issue_parts.append(issues_at(
                LINE, None, None, "row.not_loadable", "error",
                "rejected because the required column(s) " + ", ".join(self.map.missing_required) + " are missing",
                frame=rows))
        else:
            normalised, parts = self.apply_types(values)
            issue_parts.extend(parts)
            at = len(issue_parts)  # pandera's issues come here, but it checks the values as written:
            issue_parts.append(empty_issues())  # after the rules and the formula escape (1 char more)
            for r in self.schema.rules:
                if not all(f in self.map.columns for f in r.fields):
                    continue
                found = RULES[r.type](normalised, r)
                if isinstance(found, tuple):  # a rule may also rewrite values: (issues, frame)
                    found, normalised = found
                found = conform(found).with_columns(  # name the source column, as type issues do
                    pl.col("column").replace(self.map.columns))
                issue_parts.append(found)
            normalised, parts = formula.guard(rows, normalised, {f.name: self.map.columns[f.name] for f in self.fields},
                                              self.options.escape_formulas)
            issue_parts.extend(parts)
            issue_parts[at] = self.pandera_issues(rows, normalised)
        issues = pl.concat([conform(p) for p in issue_parts])
        keys, own = None, issues
        if self.schema is not None and self.key and self.map is not None and not self.map.missing_required:
            keys = self._key_candidates(normalised, issues)
            issues = pl.concat([issues, self._key_issues(rows, keys.filter(pl.col("first") != pl.col(LINE)))])
        clean, rejects, issues = self._split(rows, bad, normalised, issues)
        return BatchResult(clean, rejects, issues, keys, rows.height + bad.height, rows, own)

    def finish(self, p: BatchResult) -> Processed:
        """Key duplicates against earlier batches, in file order; the split made in `prepare`
        only changes for the rows whose key an earlier batch already had."""
        firsts = None
        if p.keys is not None:
            cand = p.keys
            if len(self.seen):
                cand = cand.with_columns(first_seen=self.seen.first_lines(cand)).with_columns(
                    first=pl.coalesce("first_seen", "first")).drop("first_seen")
            self.seen.add(cand.filter(pl.col("first") == pl.col(LINE)).select(*self.key, "first", "_h"))
            firsts = cand
        clean, rejects, issues = self.with_duplicates(p, firsts)
        return Processed(clean.drop(LINE), rejects, issues, p.read, lines=clean[LINE])

    def with_duplicates(self, p: BatchResult, cand: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(clean with LINE, rejects, issues) of `p` once `cand` (its key candidates, `first`
        now the first line of each key in the whole source, and an optional `first_file`
        naming another file that has it first) says which rows repeat a key of an earlier batch."""
        clean, rejects, issues = p.clean, p.rejects, p.issues
        if p.keys is None or cand is None or p.rows is None:
            return clean, rejects, issues
        moved = "first_file" in cand.columns and cand["first_file"].is_not_null().any()
        # an earlier batch had some of these keys: those rows are rejected too, and the
        # repeats within the batch now name the earlier line
        if moved or not cand["first"].equals(p.keys["first"]):
            dups = cand.filter((pl.col("first") != pl.col(LINE)) | (
                pl.col("first_file").is_not_null() if "first_file" in cand.columns else pl.lit(False)))
            issues = pl.concat([p.own_issues, self._key_issues(p.rows, dups)]).sort(
                "line", nulls_last=False, maintain_order=True)
            late = dups.join(p.keys.filter(pl.col("first") != pl.col(LINE)), on=LINE, how="anti")[LINE]
            if late.len():  # clean until now: their key duplicate is their one error
                clean = clean.filter(~pl.col(LINE).is_in(late.implode()))
                reasons = self._reasons(issues.filter(pl.col("line").is_in(late.implode())))
                more = self._rejected(p.rows.join(reasons, on=LINE, how="inner"), _NO_BAD)
                rejects = pl.concat([rejects, more]).sort(LINE)
        return clean, rejects, issues

    def _nulls(self, rows: pl.DataFrame) -> pl.DataFrame:
        """`rows` with the cells equal to one of `options.null_values` (spaces around ignored) empty."""
        nulls = list(self.options.null_values)
        if not nulls:
            return rows
        return rows.with_columns([pl.when(pl.col(h).str.strip_chars().is_in(nulls)).then(pl.lit("")).otherwise(pl.col(h))
                                  .alias(h) for h in self.header])

    def remember(self, path: str, chunk_bytes: int | None = None) -> int:
        """Count the keys of an earlier clean file (`path`, written for this schema) as seen:
        rows with those keys are `key.duplicate`, naming that file. Returns its rows read."""
        if self.schema is None or not self.schema.key:
            raise SettingsError("--seen needs an object (or schema) with a key: the keys are what it compares")
        if not self.key:
            raise SettingsError(f"--seen: the input has no column for the key {', '.join(self.schema.key)}, "
                                "so no key can repeat: drop --seen or check the header")
        number = len(self.seen_files)
        reader = CsvReader(path, chunk_bytes=chunk_bytes or self.options.chunk_bytes)
        hmap = map_header(self.schema, reader.info.header, reader.info.header_line)
        if not all(k in hmap.columns for k in self.key):
            raise InputError(f"{path}: has no column for the key {', '.join(self.key)}: give a clean file "
                             f"written for {self.schema.object}")
        self.seen_files.append(str(path))
        read = 0
        for batch in reader.batches():
            rows = batch.rows
            read += rows.height
            keys = pl.DataFrame([rows[LINE]] + [
                normalise_distinct(TYPES[f.type], rows[hmap.columns[f.name]], f, self.options).value.alias(f.name)
                for f in (self.schema.field(k) for k in self.key)])
            keys = keys.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in self.key]))
            cand = first_in_batch(keys, self.key).filter(pl.col("first") == pl.col(LINE))
            if len(self.seen):
                cand = cand.filter(self.seen.first_lines(cand).is_null())
            # an earlier file's line is kept as a negative number: -(file << 40 | line)
            self.seen.add(cand.with_columns(first=-((number << SEEN_SHIFT) | pl.col(LINE))).select(*self.key, "first", "_h"))
        return read

    def forget_keys(self) -> None:
        """Drop the keys of the batches seen so far (after the last batch: frees their memory)."""
        self.seen = KeyIndex(self.key)

    def _structure_issues(self, bad: pl.DataFrame) -> pl.DataFrame:
        return conform(bad.select(
            line=pl.col(LINE), column=pl.lit(None, pl.String), value=pl.col(RAW).str.slice(0, 200),
            code=pl.col("code"), severity=pl.lit("error"), message=pl.col("message"),
            fixed=pl.lit(None, pl.String)))

    def apply_types(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        assert self.map is not None
        values = [rows[LINE]]
        parts = []
        for f in self.fields:
            src = self.map.columns[f.name]
            original = rows[src]
            outcome = normalise_distinct(TYPES[f.type], original, f, self.options)
            values.append(outcome.value.alias(f.name))
            for flag in outcome.flags:
                if not flag.mask.any():
                    continue
                keep = flag.mask.fill_null(False)  # filter first: only the flagged rows are built
                msg = flag.message.filter(keep) if isinstance(flag.message, pl.Series) else flag.message
                fixed = flag.fixed.filter(keep) if flag.fixed is not None else None
                parts.append(issues_at(rows[LINE].filter(keep), src, original.filter(keep), flag.code,
                                       flag.severity, msg, fixed))
        return pl.DataFrame(values), parts

    def suspects(self, normalised: pl.DataFrame) -> dict[str, pl.Series] | None:
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

    def pandera_issues(self, rows: pl.DataFrame, normalised: pl.DataFrame) -> pl.DataFrame:
        """pandera's verdicts on the normalised values, as issues. pandera sees only the rows and
        columns a cheap pass cannot clear (its fixed cost per call and column is high); the
        verdicts are the same as on the whole frame (tests/test_pandera_prefilter.py)."""
        assert self.schema is not None and self.map is not None
        suspects = self.suspects(normalised)
        if suspects is None:
            cols, idx = tuple(f.name for f in self.fields), None
            frame = normalised.drop(LINE)
        else:
            if not suspects:
                return empty_issues()
            cols = tuple(suspects)
            idx = pl.concat(list(suspects.values())).unique().sort()
            frame = normalised.select(cols)[idx]
        if cols not in self.pandera_for:
            self.pandera_for[cols] = pandera_schema(self.schema, type_checks=False, unique=False, only=list(cols))
        from pandera.errors import SchemaErrors

        try:
            self.pandera_for[cols].validate(frame, lazy=True)
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
            out.append(issues_at(lines.gather(at), src, rows[src].gather(at), code, "error",
                                 message(code, self.schema, column, self.options.escape_formulas)))
        return pl.concat(out)

    def _key_candidates(self, normalised: pl.DataFrame, issues: pl.DataFrame) -> pl.DataFrame:
        """Rows without errors and with a whole key: `_line`, the key, `_h` and `first` (the first
        line of the key in this batch)."""
        errors = issues.filter(pl.col("severity") == "error")["line"]  # is_in needs no unique (a hash pass less)
        ok = pl.all_horizontal([pl.col(k).is_not_null() for k in self.key])
        if errors.len():
            ok = ok & ~pl.col(LINE).is_in(errors.implode())
        return first_in_batch(normalised.select(LINE, *self.key).filter(ok), self.key)

    def _key_issues(self, rows: pl.DataFrame, dups: pl.DataFrame) -> pl.DataFrame:
        """`key.duplicate` for the rows of `dups` (`_line`, `first`): they repeat the key of an
        earlier clean row (also across batches)."""
        src = self.map.columns[self.key[0]] if self.map else self.key[0]
        original = rows.select(LINE, pl.col(src).alias("_orig"))
        first = pl.col("first")
        message = pl.format("repeats the key of line {}; the first occurrence is kept", first)
        if "first_file" in dups.columns:  # the first occurrence is in an earlier file
            message = pl.when(pl.col("first_file").is_null()).then(message).otherwise(pl.format(
                "repeats the key of line {} of {}; the first occurrence is kept", first, pl.col("first_file")))
        if self.seen_files:  # a negative first line is in an earlier clean file (remember)
            files = dict(enumerate(self.seen_files))
            earlier = pl.format("repeats the key of line {} of {}, an earlier clean file (--seen)",
                                (-first) % (1 << SEEN_SHIFT),
                                ((-first) // (1 << SEEN_SHIFT)).replace_strict(files, return_dtype=pl.String))
            message = pl.when(first < 0).then(earlier).otherwise(message)
        return issues_at(LINE, src, "_orig", "key.duplicate", "error", message,
                         frame=dups.join(original, on=LINE, how="left"))

    def _split(self, rows: pl.DataFrame, bad: pl.DataFrame, normalised: pl.DataFrame,
               issues: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(clean rows with LINE, rejected rows with their reasons, issues sorted by line)."""
        reasons = self._reasons(issues)
        keep = ~pl.col(LINE).is_in(reasons[LINE].implode())
        clean = normalised.filter(keep).select(LINE, *self.output_columns)
        rejected_rows = rows.filter(~keep).join(reasons, on=LINE, how="left")
        # most batches have no bad row: no join for them (it hashes every rejected line)
        rejected_bad = bad.select(LINE, RAW).join(reasons, on=LINE, how="left") if bad.height else _NO_BAD
        rejects = self._rejected(rejected_rows, rejected_bad).sort(LINE)
        issues = issues.sort("line", nulls_last=False, maintain_order=True)
        return clean, rejects, issues

    @staticmethod
    def _reasons(issues: pl.DataFrame) -> pl.DataFrame:
        """`_line` and `_reasons` ("code (column); ...") of the lines with an error among `issues`."""
        errors = issues.filter(pl.col("severity") == "error").select(
            pl.col("line").alias(LINE), pl.format("{} ({})", pl.col("code"), pl.col("column").fill_null("row")).alias(REASONS))
        # most rejected lines have one error: only lines with several are grouped (a group_by
        # with a string join costs several times the rest when most rows are rejected)
        several = errors[LINE].is_duplicated()
        if not several.any():
            return errors
        joined = errors.filter(several).group_by(LINE, maintain_order=True).agg(pl.col(REASONS).str.join("; "))
        return pl.concat([errors.filter(~several), joined])

    def _rejected(self, rows: pl.DataFrame, bad: pl.DataFrame) -> pl.DataFrame:
        """The rejects file's rows: `rows` (cells, `_reasons`) and `bad` (`_raw`, `_reasons`)."""
        return pl.concat([rows.with_columns(pl.lit(None, pl.String).alias(RAW)), bad], how="diagonal").select(
            LINE, REASONS, *self.header, RAW)


def validate_batch(rows: Any, schema: Schema | None, header: list[str] | None = None,
                   options: Options | None = None, *, bad: pl.DataFrame | None = None,
                   warnings: pl.DataFrame | None = None, header_line: int = 1) -> BatchResult:
    """Validate one batch on its own, with no state kept between calls: the unit that one
    process, `csvprep.ray` or a Spark `mapInArrow` wrapper runs per batch.

    `rows` is a polars DataFrame (or an Arrow table) of text columns named as `header` plus
    `_line`, the source line of each row; `bad` holds the rows the reader could not split
    (`_line`, `_raw`, `code`, `message`). The result's `keys` are the candidates for key
    duplicates with later batches: give them to `first_occurrences` with every other batch's.
    """
    if not isinstance(rows, pl.DataFrame):
        rows = pl.from_arrow(rows)
    assert isinstance(rows, pl.DataFrame)
    if header is None:
        header = [c for c in rows.columns if c != LINE]
    empty_bad = pl.DataFrame(schema={LINE: pl.Int64, RAW: pl.String, "code": pl.String, "message": pl.String})
    batch = Batch(rows.with_columns(pl.col(LINE).cast(pl.Int64)), empty_bad if bad is None else bad, 0, warnings)
    return Validator(schema, header, header_line, options).prepare(batch)


def first_occurrences(candidates: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Which candidates repeat a key that came earlier in source order (`_source`, then `_line`).

    `candidates` has `_source` (the position of the file among the sources), `_line` and the
    key columns: the `key_firsts` of every batch, or of one hash partition of them (equal keys
    have equal `key_hash`). Returns `_source`, `_line`, `first_source` and `first` (the line
    of the first occurrence) for every later occurrence; pure, so any engine can run it.
    """
    if not candidates.height:
        return pl.DataFrame(schema={"_source": pl.Int64, LINE: pl.Int64, "first_source": pl.Int64, "first": pl.Int64})
    c = candidates.select(pl.col("_source").cast(pl.Int64), pl.col(LINE).cast(pl.Int64), *key).sort("_source", LINE)
    c = c.with_columns(first_source=pl.col("_source").first().over(key), first=pl.col(LINE).first().over(key))
    return c.filter((pl.col("_source") != pl.col("first_source")) | (pl.col(LINE) != pl.col("first"))).select(
        "_source", LINE, "first_source", "first")
