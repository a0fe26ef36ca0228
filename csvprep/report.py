"""The report of a run: counts, detected format and every issue with its place."""
from __future__ import annotations

import io
import json
from dataclasses import InitVar, dataclass, field
from typing import IO, Any

import polars as pl

from .issues import ERROR, IssueStore


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
    issues: InitVar[pl.DataFrame | None] = None  # every issue, as a frame (kept in `store`)
    connector: str | None = None
    encoding_confidence: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    rows: pl.DataFrame | None = field(default=None, repr=False)  # cells of the HTML grid's lines (not in JSON)
    store: IssueStore = field(default_factory=IssueStore, repr=False)  # every issue, in order

    def __post_init__(self, issues: pl.DataFrame | None) -> None:
        if isinstance(issues, pl.DataFrame):
            self.store = IssueStore.of(issues)

    @property
    def ok(self) -> bool:
        """True when no issue is an error."""
        return self.errors == 0

    @property
    def issue_columns(self) -> list[str]:
        """The issue keys of the JSON report: `file` too when the run read several files (`csvprep.ray`)."""
        return list(self.store.columns)

    @property
    def errors(self) -> int:
        """Number of error issues."""
        return self.store.errors()

    @property
    def warnings(self) -> int:
        """Number of warning issues."""
        return self.store.warnings()

    def counts(self) -> dict[str, int]:
        """Issues per code, most frequent first."""
        per: dict[str, int] = {}
        for (code, _), n in self.store.counts.items():
            per[code] = per.get(code, 0) + n
        return dict(sorted(per.items(), key=lambda kv: (-kv[1], kv[0])))

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
        first = True
        for issues in self.store.frames():
            for start in range(0, issues.height, slice_rows):
                part = issues.slice(start, slice_rows).write_json().encode("utf-8")  # '[{...},{...}]'
                fh.write((b"" if first else b",") + part[1:-1])
                first = False
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
            sev = {code: s for (code, s) in sorted(self.store.counts, key=lambda k: k[1] == ERROR)}
            counts = dict(sorted(counts.items(), key=lambda kv: sev[kv[0]] != "error"))  # errors first
            width = max(len(c) for c in counts)
            lines.append("")
            lines += [f"  {n:>7}  {code:<{width}}  {sev[code]}" for code, n in counts.items()]
            lines.append("")
            # errors before warnings, the file's and the header's first (why nothing is clean:
            # header.missing_required): those are always shown, whatever the limit
            shown = self._first_issues(limit)
            for r in shown.iter_rows(named=True):
                where = f"line {r['line']}" if r["line"] is not None else "file"
                col = f", {r['column']}" if r["column"] else ""
                val = f" {r['value']!r}" if r["value"] not in (None, "") else ""
                fix = f" -> {r['fixed']!r}" if r["fixed"] else ""
                lines.append(f"{where}{col}: {r['severity']} {r['code']}:{val}{fix} {r['message']}")
            if self.store.height > shown.height:
                lines.append(f"... and {self.store.height - shown.height} more (use --format json for all)")
        for name, value in self.outputs.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                lines.append(f"{name}: {', '.join(value)}")
            elif isinstance(value, (str, int)):  # not the per-file details of csvprep.ray
                lines.append(f"{name}: {value}")
        return "\n".join(lines)

    def _first_issues(self, limit: int) -> pl.DataFrame:
        """The issues a summary shows: errors before warnings, the file's and the header's first
        (why nothing is clean: header.missing_required), then in file order; at least `limit`,
        and every file or header error whatever the limit. Read a stored batch at a time: of
        each of the four kinds only the first `limit` can be shown."""
        whole = pl.col("line").is_null() | pl.col("code").cast(pl.String).str.starts_with("header.")
        error = pl.col("severity") == ERROR
        kinds = [~error & whole, error & ~whole, ~error & ~whole]
        need = [limit] * len(kinds)
        keep, offset = [], 0
        for frame in self.store.frames():
            frame = frame.with_row_index("_i", offset)
            offset += frame.height
            keep.append(frame.filter(error & whole))  # all of them
            for k, kind in enumerate(kinds):
                if need[k]:
                    got = frame.filter(kind).head(need[k])
                    need[k] -= got.height
                    keep.append(got)
        if not keep:
            return self.store.frame()
        found = pl.concat(keep).sort([pl.col("severity") != ERROR, ~whole, "_i"])
        file_errors = found.filter(error & whole).height
        return found.head(max(limit, file_errors)).drop("_i")


def _issues(self: Report) -> pl.DataFrame:
    """Every issue as one frame (read back from the store: a big run's issues are on disk)."""
    return self.store.frame()


def _set_issues(self: Report, frame: pl.DataFrame) -> None:
    self.store = IssueStore.of(frame)


# a property over the store, set after the dataclass is made (`issues=` stays an argument)
Report.issues = property(_issues, _set_issues)  # type: ignore[assignment,method-assign]
