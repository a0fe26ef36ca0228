"""The HTML report: one self-contained page with counts, charts, where the problems are and a grid of the problem lines."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from .frames import detach
from .issues import ISSUE_SCHEMA, LINE, RAW, conform

if TYPE_CHECKING:
    from .report import Report

REPORT_ROWS = 1000  # grid lines per issue code (--report-rows)
TARGET_CODE = "target.rejected"  # the target's verdict on a pushed row, not csvprep's
STRIP_BINS = 100  # columns of the "where in the file" strip
DELIMITERS = {",": "comma (,)", "\t": "tab (\\t)", ";": "semicolon (;)", "|": "pipe (|)", "^": "caret (^)", "`": "backquote (`)"}
BARS = 30  # bars per chart; the rest are summed in one note


def report_format(path: str | os.PathLike) -> str:
    """"html" for a .html/.htm path, else "json"."""
    return "html" if os.fspath(path).lower().endswith((".html", ".htm")) else "json"


def _row_issues(issues: pl.DataFrame) -> pl.DataFrame:
    """Issues that belong to a data line (not the file or the header)."""
    return issues.filter(pl.col("line").is_not_null() & ~pl.col("code").cast(pl.String).str.starts_with("header."))


def _first_lines(issues: pl.DataFrame, cap: int, taken: dict[str, int] | None = None) -> pl.DataFrame:
    """(line, code) of the first `cap` lines of each code (less what `taken` says earlier batches had)."""
    pairs = (_row_issues(issues).select("line", pl.col("code").cast(pl.String))
             .unique().sort("line", "code"))
    before = pl.col("code").replace_strict(taken or {}, default=0, return_dtype=pl.Int64)
    return pairs.filter(pl.int_range(pl.len()).over("code") + before < cap)


class RowSampler:
    """The cells as read of the lines the HTML grid shows (the first `cap` lines of each issue code),
    collected batch by batch in file order."""

    def __init__(self, cap: int, columns: list[str]) -> None:
        self.cap = cap
        self.columns = columns
        self.taken: dict[str, int] = {}
        self.parts: list[pl.DataFrame] = []

    def add(self, rows: pl.DataFrame, rejects: pl.DataFrame, issues: pl.DataFrame) -> None:
        """Keep the cells of this batch's grid lines: well-formed rows from `rows`, the `_raw` text
        of the others from `rejects`."""
        chosen = _first_lines(issues, self.cap, self.taken)
        if chosen.height == 0:
            return
        for code, n in chosen.group_by("code").len().iter_rows():
            self.taken[code] = self.taken.get(code, 0) + n
        lines = chosen["line"].unique().implode()
        cells = rows.filter(pl.col(LINE).is_in(lines)).select(
            LINE, *[pl.col(c) for c in self.columns if c in rows.columns])
        parts = [cells]
        if RAW in rejects.columns:
            raw = rejects.filter(pl.col(LINE).is_in(lines) & pl.col(RAW).is_not_null()
                                 & ~pl.col(LINE).is_in(cells[LINE].implode())).select(LINE, RAW)
            if raw.height:
                parts.append(raw)
        self.parts.append(detach(pl.concat(parts, how="diagonal_relaxed")))  # not the batch's buffers

    def frame(self) -> pl.DataFrame:
        """`_line`, the columns in schema order and `_raw`, one row per collected line."""
        out = pl.concat(self.parts, how="diagonal_relaxed") if self.parts else pl.DataFrame({LINE: []}, schema={LINE: pl.Int64})
        return out.select(LINE, *[c for c in self.columns if c in out.columns],
                          *([RAW] if RAW in out.columns else [])).sort(LINE)


def schema_columns(header: list[str], mapped: dict[str, str] | None) -> list[str]:
    """The source columns in schema order (`mapped`: field -> source column), then the others."""
    first = list(dict.fromkeys(mapped.values())) if mapped else []
    return first + [c for c in header if c not in first]


def _schema_of(meta: dict[str, Any]) -> Any:
    """The report's built-in schema, or None (structure only, or a schema file of another machine)."""
    if not meta.get("object"):
        return None
    try:
        from .schema import load_schema

        return load_schema(meta["object"], meta.get("connector"))
    except Exception:  # noqa: BLE001 - then the issues keep their own order and names
        return None


def _guess_columns(schema: Any, issues: pl.DataFrame) -> list[str]:
    """The columns named by the issues, in schema order when the schema is known."""
    named = [c for c in issues["column"].cast(pl.String).unique(maintain_order=True).to_list() if c]
    if schema is None:
        return named
    from .schema import map_header

    return schema_columns(named, map_header(schema, named).columns)


def _target_on_source(schema: Any, issues: pl.DataFrame, source: list[str]) -> pl.DataFrame:
    """Target verdicts name the target's field (`C_EmailAddress`); put them on the source column
    that feeds it (`Email Address`) so they share the cell with csvprep's issues."""
    if schema is None or not source or not (issues["code"] == TARGET_CODE).any():
        return issues
    from .schema import map_header

    feeds = {f: c for f, c in map_header(schema, source).columns.items() if f != c}
    if not feeds:
        return issues
    return issues.with_columns(column=pl.when(pl.col("code") == TARGET_CODE)
                               .then(pl.col("column").replace(feeds)).otherwise(pl.col("column")))


@dataclass
class _Source:
    meta: dict[str, Any]
    issues: pl.DataFrame
    rows: pl.DataFrame | None = None
    columns: list[str] = field(default_factory=list)


def _source(report: Report | dict[str, Any], rows: pl.DataFrame | None) -> _Source:
    if isinstance(report, dict):  # a JSON report read back
        meta = {k: v for k, v in report.items() if k != "issues"}
        issues = pl.DataFrame(report.get("issues") or [], schema=ISSUE_SCHEMA, strict=False)
    else:
        meta = report.to_dict(include_issues=False)
        meta["encoding_confidence"] = report.encoding_confidence
        push = getattr(report, "push", None)
        if push and "push" not in meta:
            meta["push"] = push if isinstance(push, dict) else getattr(push, "to_dict", lambda: None)()
        issues = conform(report.issues)
        if rows is None:
            rows = getattr(report, "rows", None)
    schema = _schema_of(meta)
    source = ([c for c in rows.columns if c not in (LINE, RAW)] if rows is not None else
              [c for c in issues.filter(pl.col("code") != TARGET_CODE)["column"].unique(maintain_order=True).to_list() if c])
    issues = _target_on_source(schema, issues, source)
    rowish = _row_issues(issues)
    columns = ([c for c in rows.columns if c not in (LINE, RAW)] if rows is not None
               else _guess_columns(schema, rowish))
    extra = [c for c in rowish["column"].unique(maintain_order=True).to_list() if c and c not in columns]
    return _Source(meta, issues, rows, columns + extra)


def _bars(counts: list[tuple[str, int, int]], key: str) -> dict[str, Any]:
    """Bars of a horizontal SVG chart from (label, issues, errors among them): the error part and
    the warning part in units of the 300-wide bar area (the largest bar fills it)."""
    top = max((n for _, n, _ in counts), default=1) or 1
    shown = counts[:BARS]
    bars = []
    for label, n, e in shown:
        we, ww = 300 * e / top, 300 * (n - e) / top
        if we + ww < 1:  # a bar of 1 unit at least, in the colour that has issues
            we, ww = (1.0, 0.0) if e else (0.0, 1.0)
        bars.append({"label": label, "severity": "error" if e else "warning", "n": n, "errors": e,
                     "we": round(we, 2), "ww": round(ww, 2), "end": round(we + ww, 2)})
    return {"key": key, "bars": bars, "more": len(counts) - len(shown), "more_n": sum(n for _, n, _ in counts[BARS:])}


def _strip(issues: pl.DataFrame, read: int) -> dict[str, Any]:
    """Issues by line range: STRIP_BINS equal ranges from line 2 to the last line."""
    rowish = _row_issues(issues)
    if rowish.height == 0:
        return {"bins": [], "first": 0, "last": 0}
    first = 2 if read else int(rowish["line"].min())  # type: ignore[arg-type]
    last = max(int(rowish["line"].max()), first + read - 1)  # type: ignore[arg-type]
    span = last - first + 1
    bins = min(STRIP_BINS, span)
    size = -(-span // bins)
    per = (rowish.select(b=((pl.col("line") - first) // size).clip(0, bins - 1),
                         e=(pl.col("severity") == "error").cast(pl.Int64),
                         w=(pl.col("severity") != "error").cast(pl.Int64))
           .group_by("b").agg(pl.col("e").sum(), pl.col("w").sum()))
    found = {b: (e, w) for b, e, w in per.iter_rows()}
    top = max((e + w for e, w in found.values()), default=1) or 1
    out = []
    for b in range(bins):
        e, w = found.get(b, (0, 0))
        lo = first + b * size
        if e + w:  # x, width and the error / warning heights in the strip's 1000 x 56 viewBox
            he, hw = 54 * e / top, 54 * w / top
            if he + hw < 3:
                he, hw = (3.0, 0.0) if e else (0.0, 3.0)
            out.append({"from": lo, "to": min(lo + size - 1, last), "errors": e, "warnings": w,
                        "x": round(1000 * (lo - first) / span, 2), "w": round(max(1000 * size / span - 0.5, 0.8), 2),
                        "he": round(he, 1), "hw": round(hw, 1), "ye": round(56 - he, 1), "yw": round(56 - he - hw, 1)})
    return {"bins": out, "first": first, "last": last, "size": size}


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` (so no `</script>`, no `<!--`)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _grid(src: _Source, cap: int) -> tuple[dict[str, Any], dict[str, int]]:
    """The grid's data (lines, cells, their issues; codes and messages as tables) and the number of
    issues of each code it holds."""
    issues = src.issues
    chosen = _first_lines(issues, cap)
    lines = chosen["line"].unique().sort()
    on = _row_issues(issues).filter(pl.col("line").is_in(lines.implode()))
    codes = on["code"].unique(maintain_order=True).to_list()
    messages = on["message"].unique(maintain_order=True).to_list()
    code_at = {c: i for i, c in enumerate(codes)}
    msg_at = {m: i for i, m in enumerate(messages)}
    col_at = {c: i for i, c in enumerate(src.columns)}
    by_line: dict[int, list[list[Any]]] = {}
    for line, column, value, code, severity, message, fixed in on.iter_rows():
        by_line.setdefault(line, []).append(
            [col_at.get(column, -1) if column else -1, value, code_at[code], 1 if severity == "error" else 0,
             msg_at.get(message, -1), fixed])
    cells: dict[int, tuple[list[Any] | None, str | None]] = {}
    if src.rows is not None:
        wanted = src.rows.filter(pl.col(LINE).is_in(lines.implode()))
        has_raw = RAW in wanted.columns
        for rec in wanted.iter_rows(named=True):
            raw = rec.get(RAW) if has_raw else None
            cells[rec[LINE]] = (None if raw is not None else [rec.get(c) for c in src.columns], raw)
    grid_rows = []
    for line in lines.to_list():
        row_cells, raw = cells.get(line, (None, None))
        grid_rows.append([line, row_cells, raw, by_line.get(line, [])])
    held = dict(on.group_by("code").len().iter_rows())
    data = {"columns": src.columns, "codes": codes, "messages": messages, "rows": grid_rows,
            "cells": src.rows is not None, "target": TARGET_CODE,
            "rowColumn": any(raw is not None or any(i[0] < 0 for i in iss) for _, _, raw, iss in grid_rows)}
    return data, held


def context(report: Report | dict[str, Any], rows: pl.DataFrame | None = None,
            max_rows_per_code: int = REPORT_ROWS) -> dict[str, Any]:
    """What the template shows: the report's facts, charts, strip and the grid's data."""
    src = _source(report, rows)
    meta, issues = src.meta, src.issues
    sev = issues["severity"]
    by_code = (issues.group_by("code").agg(pl.len().alias("n"), (pl.col("severity") == "error").sum().alias("err"))
               .sort(["n", "code"], descending=[True, False]))
    by_col = (issues.filter(pl.col("column").is_not_null()).group_by("column")
              .agg(pl.len().alias("n"), (pl.col("severity") == "error").sum().alias("err"))
              .sort(["n", "column"], descending=[True, False]))
    grid, held = _grid(src, max_rows_per_code)
    in_rows = _row_issues(issues).group_by("code").len().sort(["len", "code"], descending=[True, False])
    notes = [{"code": c, "total": n, "shown": held.get(c, 0), "more": n - held.get(c, 0)}
             for c, n in in_rows.iter_rows() if n > held.get(c, 0)]
    file_level = issues.filter(pl.col("line").is_null() | pl.col("code").str.starts_with("header."))
    rows_meta = meta.get("rows") or {}
    push = meta.get("push") if isinstance(meta.get("push"), dict) else None
    confidence = meta.get("encoding_confidence")
    how = (None if "encoding_confidence" not in meta else "given" if confidence is None
           else "detected" if confidence >= 1 else f"guessed, confidence {confidence:.2f}")
    return {
        "meta": meta, "rows": rows_meta, "push": push,
        "encoding_how": how,
        "delimiter_name": DELIMITERS.get(meta.get("delimiter") or "", repr(meta.get("delimiter"))),
        "errors": int((sev == "error").sum()), "warnings": int((sev != "error").sum()), "total": issues.height,
        "code_chart": _bars(list(by_code.iter_rows()), "code"),
        "column_chart": _bars(list(by_col.iter_rows()), "column"),
        "strip": _strip(issues, int(rows_meta.get("read") or 0)),
        "file_issues": file_level.head(200).to_dicts(), "file_issues_more": max(0, file_level.height - 200),
        "notes": notes, "cap": max_rows_per_code, "grid_json": _script_json(grid),
        "grid_lines": len(grid["rows"]), "target_code": TARGET_CODE,
        "targets": int((issues["code"] == TARGET_CODE).sum()),
    }


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("csvprep", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["csp_hash"] = lambda text: base64.b64encode(hashlib.sha256(str(text).encode("utf-8")).digest()).decode()
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))
    return env


def to_html(report: Report | dict[str, Any], rows: pl.DataFrame | None = None,
            max_rows_per_code: int = REPORT_ROWS) -> str:
    """The report as one self-contained HTML page (inline CSS and JS, data as JSON, no URL).

    `report` is a `Report` or a JSON report read back (`json.load`); `rows` the cells of the problem
    lines (`Report.rows` when the run collected them), else the grid shows what the issues name.
    """
    from markupsafe import Markup

    ctx = context(report, rows, max_rows_per_code)
    ctx["grid_json"] = Markup(ctx["grid_json"])  # already safe inside <script> (see _script_json)
    return _environment().get_template("report.html.j2").render(**ctx)


def write_html(report: Report | dict[str, Any], path: str | os.PathLike, rows: pl.DataFrame | None = None,
               max_rows_per_code: int = REPORT_ROWS) -> None:
    """Write `to_html()` atomically."""
    from .writer import AtomicFile

    f = AtomicFile(path)
    with f.writing() as fh:
        fh.write(to_html(report, rows, max_rows_per_code).encode("utf-8"))
    f.commit()


def read_json_report(path: str | os.PathLike) -> dict[str, Any]:
    """A JSON report of check, clean or push, read back."""
    from .errors import InputError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})")
    except ValueError as exc:
        raise InputError(f"{path}: not a JSON report ({exc}): give the file of --report or --format json")
    if not isinstance(data, dict) or "issues" not in data or "rows" not in data:
        raise InputError(f"{path}: not a csvprep JSON report (no rows and issues): give the file of --report")
    return data
