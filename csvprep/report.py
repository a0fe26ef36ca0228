"""The report of a run: counts, detected format and every issue with its place."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import IO, Any

import polars as pl

from .issues import COLUMNS, empty_issues


@dataclass
class Report:
    """What csvprep found: `ok` is true when no issue is an error."""

    file: str
    encoding: str
    delimiter: str
    object: str | None
    read: int = 0
    clean: int = 0
    rejected: int = 0
    issues: pl.DataFrame = field(default_factory=empty_issues)
    connector: str | None = None
    encoding_confidence: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    rows: pl.DataFrame | None = field(default=None, repr=False)  # cells of the HTML grid's lines (not in JSON)

    @property
    def ok(self) -> bool:
        """True when no issue is an error."""
        return self.errors == 0

    @property
    def issue_columns(self) -> list[str]:
        """The issue keys of the JSON report: `file` too when the run read several files (`csvprep.ray`)."""
        return [*COLUMNS, "file"] if "file" in self.issues.columns else list(COLUMNS)

    @property
    def errors(self) -> int:
        """Number of error issues."""
        return int((self.issues["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        """Number of warning issues."""
        return int((self.issues["severity"] == "warning").sum())

    def counts(self) -> dict[str, int]:
        """Issues per code, most frequent first."""
        if self.issues.height == 0:
            return {}
        c = self.issues.group_by("code").len().sort(["len", "code"], descending=[True, False])
        return dict(zip(c["code"].to_list(), c["len"].to_list()))

    def as_rows(self) -> list[list[Any]]:
        """[line, column, code] per issue: short to assert on in tests."""
        return [list(r) for r in self.issues.select("line", "column", "code").iter_rows()]

    def to_dict(self, include_issues: bool = True) -> dict[str, Any]:
        """The stable JSON shape documented in the README."""
        out: dict[str, Any] = {
            "ok": self.ok, "file": self.file, "encoding": self.encoding, "delimiter": self.delimiter,
            "object": self.object,
            "rows": {"read": self.read, "clean": self.clean, "rejected": self.rejected},
        }
        if include_issues:
            out["issues"] = self.issues.select(self.issue_columns).to_dicts()
        if self.connector:
            out["connector"] = self.connector
        if self.outputs:
            out["outputs"] = self.outputs
        return out

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text; polars serialises the issues (no Python object per issue)."""
        buf = io.BytesIO()
        self.write_json(buf, indent)
        return buf.getvalue().decode("utf-8")

    def write_json(self, fh: IO[bytes], indent: int | None = 2, slice_rows: int = 100_000) -> None:
        """Write `to_json()` to a binary file, the issues a slice at a time (a big report is
        never one string in memory)."""
        marker = "\x00csvprep-issues\x00"
        head = {**self.to_dict(include_issues=False), "issues": marker}
        before, after = json.dumps(head, indent=indent, ensure_ascii=False).split(json.dumps(marker), 1)
        fh.write(before.encode("utf-8") + b"[")
        issues = self.issues.select(self.issue_columns)
        for start in range(0, issues.height, slice_rows):
            part = issues.slice(start, slice_rows).write_json().encode("utf-8")  # '[{...},{...}]'
            fh.write((b"," if start else b"") + part[1:-1])
        fh.write(b"]" + after.encode("utf-8"))

    def to_html(self, max_rows_per_code: int = 1000) -> str:
        """The report as one self-contained HTML page (see `csvprep.html_report`)."""
        from .html_report import to_html

        return to_html(self, self.rows, max_rows_per_code)

    def to_text(self, limit: int = 20) -> str:
        """A short human summary: counts per code and the first issues with their lines."""
        what = f" as {self.connector}/{self.object}" if self.object else " (structure only)"
        enc = self.encoding + (f", confidence {self.encoding_confidence:.2f}"
                               if self.encoding_confidence is not None and self.encoding_confidence < 1 else "")
        lines = [
            f"{self.file}{what}: {enc}, delimiter {self.delimiter!r}",
            f"rows: {self.read} read, {self.clean} clean, {self.rejected} rejected",
            f"issues: {self.errors} error(s), {self.warnings} warning(s)",
        ]
        counts = self.counts()
        if counts:
            sev = dict(self.issues.select("code", "severity").unique("code").iter_rows())
            counts = dict(sorted(counts.items(), key=lambda kv: sev[kv[0]] != "error"))  # errors first
            width = max(len(c) for c in counts)
            lines.append("")
            lines += [f"  {n:>7}  {code:<{width}}  {sev[code]}" for code, n in counts.items()]
            lines.append("")
            # errors before warnings, the file's and the header's first (why nothing is clean:
            # header.missing_required): those are always shown, whatever the limit
            whole = pl.col("line").is_null() | pl.col("code").cast(pl.String).str.starts_with("header.")
            ordered = self.issues.with_row_index("_i").sort([pl.col("severity") != "error", ~whole, "_i"])
            file_errors = ordered.filter((pl.col("severity") == "error") & whole)
            shown = ordered.head(max(limit, file_errors.height)).drop("_i")
            for r in shown.iter_rows(named=True):
                where = f"line {r['line']}" if r["line"] is not None else "file"
                col = f", {r['column']}" if r["column"] else ""
                val = f" {r['value']!r}" if r["value"] not in (None, "") else ""
                fix = f" -> {r['fixed']!r}" if r["fixed"] else ""
                lines.append(f"{where}{col}: {r['severity']} {r['code']}:{val}{fix} {r['message']}")
            if self.issues.height > shown.height:
                lines.append(f"... and {self.issues.height - shown.height} more (use --format json for all)")
        for name, value in self.outputs.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                lines.append(f"{name}: {', '.join(value)}")
            elif isinstance(value, (str, int)):  # not the per-file details of csvprep.ray
                lines.append(f"{name}: {value}")
        return "\n".join(lines)
