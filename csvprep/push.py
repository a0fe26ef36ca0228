"""Push: clean a file, upload each clean part as a bulk job, follow the jobs and map target errors to source lines."""
from __future__ import annotations

import bisect
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import polars as pl

from . import api
from .connectors.hub import BulkClient, JobStatus, flag, hub_of
from .errors import HubError, InputError, JobFailedError, OutputError, PushTimeoutError
from .issues import COLUMNS, ISSUE_SCHEMA, IssueStore
from .options import Options
from .report import Report
from .schema import Schema
from .writer import AtomicFile, delimiter_char

Event = Callable[[str], None]
RECORD_KEYS = ("record", "data", "fieldValues")
INDEX_KEYS = ("recordIndex", "index", "row")
MESSAGE_KEYS = ("status", "message", "error", "errorMessage", "statusMessage")
COLUMN_KEYS = ("field", "fieldName", "column", "invalidFields")


@dataclass
class PushReport(Report):
    """The clean report plus `push`: hub, object, jobs and what the target did with the rows."""

    push: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, include_issues: bool = True) -> dict[str, Any]:
        out = super().to_dict(include_issues)
        if self.push:
            out["push"] = self.push
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> PushReport:
        """A push report read back from its JSON file (for --resume)."""
        p = Path(path)
        try:
            data, issues = _read_report(p)
        except FileNotFoundError:
            raise InputError(f"{p}: no such report: give the --report file of an earlier push")
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"{p}: not a readable JSON report ({type(exc).__name__}): give the --report file "
                             "of an earlier push")
        if not isinstance(data, dict) or not isinstance(data.get("push"), dict) or "parts" not in data["push"]:
            raise InputError(f"{p}: not a push report (no `push` section with parts): give the --report file "
                             "of an earlier push")
        rows = data.get("rows") or {}
        return cls(file=data.get("file", ""), encoding=data.get("encoding", ""), delimiter=data.get("delimiter", ""),
                   object=data.get("object"), read=int(rows.get("read", 0)), clean=int(rows.get("clean", 0)),
                   rejected=int(rows.get("rejected", 0)), store=issues, connector=data.get("connector"),
                   outputs=data.get("outputs") or {}, push=data["push"])

    # -- counts ------------------------------------------------------------------------------

    @property
    def settled(self) -> bool:
        """True when every part was sent and every job's outcome is known."""
        return bool(self.push) and all(p.get("settled") for p in self.push.get("parts", []))

    def accepted_all(self) -> bool:
        """True when every row read was accepted by the target."""
        p = self.push
        return self.settled and self.rejected == 0 and p.get("failed", 0) == 0 and p.get("unmapped", 0) == 0 \
            and p.get("accepted", 0) == self.read

    def to_text(self, limit: int = 20) -> str:
        text = super().to_text(limit)
        p = self.push
        if not p:
            return text
        lines = [text, ""]
        if p.get("dry_run"):
            lines.append(f"dry run: nothing uploaded to {p['hub']}/{p['object']}")
        for job in p.get("jobs", []):
            counts = f", {job['records']} records, {job['failed']} failed" if job.get("records") is not None else ""
            err = f": {job['error']}" if job.get("error") else ""
            lines.append(f"job {job['id']} (part {job['part']}): {job['status']}{counts}{err}")
        lines.append(f"push to {p['hub']}/{p['object']}: {p.get('uploaded', 0)} uploaded, {p.get('accepted', 0)} "
                     f"accepted, {p.get('failed', 0)} failed ({p.get('unmapped', 0)} not matched to a line), "
                     f"{p.get('unknown', 0)} outcome unknown, {p.get('not_sent', 0)} not sent")
        return "\n".join(lines)


# -- the report on disk ------------------------------------------------------------------------

MARKER = "\x00csvprep-issues\x00"
ISSUES_KEY = b'\n  "issues": ['  # how `ReportFile` (indent 2) writes the last key


def _read_report(path: Path) -> tuple[Any, IssueStore]:
    """A report's JSON without its issues, and its issues in a store (read a chunk at a time: a
    big report is never a list of Python dicts, nor all in memory)."""
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise ValueError("empty file")
        view = FileView(fh)
        at = view.find(ISSUES_KEY)
        end = view.rfind(b"]")
        if at < 0 or end < at:
            data = json.loads(view[:].decode("utf-8"))
            issues = data.pop("issues", None) if isinstance(data, dict) else None
            return data, IssueStore.of(pl.DataFrame(issues or [], schema=ISSUE_SCHEMA))
        data = json.loads((view[:at].rstrip().rstrip(b",") + b"\n}").decode("utf-8"))
        return data, _read_issues(view, at + len(ISSUES_KEY), end)


class FileView:
    """Slices, find and rfind of an open file by reads (not a memory map, whose pages would
    all count as resident memory once read: a 550 MB report made a 830 MB resume)."""

    def __init__(self, fh: Any) -> None:
        self.fd = fh.fileno()
        self.size = os.fstat(self.fd).st_size

    def __getitem__(self, s: slice) -> bytes:
        start, stop, _ = s.indices(self.size)
        return os.pread(self.fd, max(stop - start, 0), start)

    def find(self, sub: bytes, block: int = 1 << 20) -> int:
        at = 0
        while at < self.size:
            found = self[at:at + block + len(sub) - 1].find(sub)
            if found >= 0:
                return at + found
            at += block
        return -1

    def rfind(self, sub: bytes, block: int = 1 << 16) -> int:
        end = self.size
        while end > 0:
            start = max(end - block, 0)
            found = self[start:end + len(sub) - 1].rfind(sub)
            if found >= 0:
                return start + found
            end = start
        return -1


READ_CHUNK, READ_ROWS = 4 << 20, 20_000  # bytes decoded at once, issues per stored batch when reading a report


def _read_issues(mm: FileView, start: int, end: int) -> IssueStore:
    """The issue objects between `start` and the closing bracket at `end`, decoded a chunk at a
    time into a store (a few hundred bytes of Python objects per issue at most `slice_rows` at
    once, instead of one parse tree of the whole array)."""
    import codecs

    decoder, utf8 = json.JSONDecoder(), codecs.getincrementaldecoder("utf-8")()
    chunk, slice_rows = READ_CHUNK, READ_ROWS
    store, rows, buf, pos, at = IssueStore(), [], "", 0, start
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(buf) - 1 and at < end:  # keep at least one character ahead
            buf, pos = buf[pos:] + utf8.decode(mm[at:min(at + chunk, end)]), 0
            at = min(at + chunk, end)
            continue
        if pos >= len(buf):
            break
        try:
            item, pos = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if at >= end:
                raise
            buf, pos = buf[pos:] + utf8.decode(mm[at:min(at + chunk, end)]), 0
            at = min(at + chunk, end)
            continue
        rows.append(item)
        if len(rows) >= slice_rows:
            store.append(pl.DataFrame(rows, schema=ISSUE_SCHEMA))
            rows = []
    store.append(pl.DataFrame(rows, schema=ISSUE_SCHEMA))
    return store


def _copy_range(src: Any, dst: Any, offset: int, count: int) -> None:
    """Append bytes [offset, offset + count) of `src` to `dst` (in the kernel where it can)."""
    dst.flush()
    try:
        while count > 0:
            n = os.copy_file_range(src.fileno(), dst.fileno(), count, offset)
            if n <= 0:
                break
            offset, count = offset + n, count - n
    except (AttributeError, OSError):
        pass
    src.seek(offset)
    while count > 0:
        chunk = src.read(min(count, 1 << 20))
        if not chunk:
            raise OSError(5, "the previous report ended early")
        dst.write(chunk)
        count -= len(chunk)
    dst.flush()


class ReportFile:
    """The push report on disk, rewritten atomically at every save. Issues are only ever
    appended, so the ones already on disk are copied from the previous file (by the kernel), not
    serialised again: a big clean report costs one full write, not one per job status change."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.span: tuple[int, int] | None = None  # where the issue items are in the file written
        self.count = 0  # how many issues that file holds
        self.stamp: tuple[int, int, int] | None = None  # (inode, size, mtime) of that file

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def save(self, report: Report, slice_rows: int = 100_000) -> None:
        head = {**report.to_dict(include_issues=False), "issues": MARKER}
        before, after = json.dumps(head, indent=2, ensure_ascii=False).split(json.dumps(MARKER), 1)
        start = before.encode("utf-8") + b"["
        reuse = self.span is not None and report.store.height >= self.count and self._stat() == self.stamp
        f = AtomicFile(self.path)
        with f.writing() as fh:
            fh.write(start)
            end, done = len(start), 0
            if reuse and self.span is not None:
                a, b = self.span
                with self.path.open("rb") as old:
                    _copy_range(old, fh, a, b - a)
                end, done = end + b - a, self.count
            for rest in report.store.frames(done):
                rest = rest.select(COLUMNS)
                for at in range(0, rest.height, slice_rows):
                    chunk = (b"," if done else b"") + rest.slice(at, slice_rows).write_json().encode("utf-8")[1:-1]
                    fh.write(chunk)
                    end, done = end + len(chunk), done + min(slice_rows, rest.height - at)
            fh.write(b"]" + after.encode("utf-8"))
        f.commit()
        self.span, self.count, self.stamp = (len(start), end), report.store.height, self._stat()


# -- line ranges: the source lines of a part's records, "2-9,11-40" ------------------------------

def _runs(lines: pl.Series) -> list[list[int]]:
    """Consecutive runs of ascending line numbers as [first, last] pairs."""
    if lines.len() == 0:
        return []
    frame = lines.alias("l").to_frame().with_columns(run=(pl.col("l").diff() != 1).fill_null(True).cum_sum())
    runs = frame.group_by("run", maintain_order=True).agg(pl.col("l").first().alias("a"), pl.col("l").last().alias("b"))
    return [[a, b] for a, b in zip(runs["a"].to_list(), runs["b"].to_list())]


class LineCollector:
    """Gathers the clean rows' source lines batch by batch as runs (a few numbers per batch)."""

    def __init__(self) -> None:
        self.runs: list[list[int]] = []
        self.count = 0

    def __call__(self, lines: pl.Series) -> None:
        self.count += lines.len()
        for a, b in _runs(lines):
            if self.runs and self.runs[-1][1] + 1 == a:
                self.runs[-1][1] = b
            else:
                self.runs.append([a, b])

    def split(self, sizes: list[int]) -> list[list[list[int]]]:
        """The runs of each part, given how many records each part holds (in order)."""
        if sum(sizes) != self.count:
            raise OutputError(f"the clean parts hold {sum(sizes)} records but {self.count} rows were written clean")
        out: list[list[list[int]]] = []
        runs = [list(r) for r in self.runs]
        i = 0
        for size in sizes:
            mine: list[list[int]] = []
            while size:
                a, b = runs[i]
                take = min(size, b - a + 1)
                mine.append([a, a + take - 1])
                size -= take
                if a + take > b:
                    i += 1
                else:
                    runs[i][0] = a + take
            out.append(mine)
        return out


def format_runs(runs: list[list[int]]) -> str:
    """[[2, 9], [11, 11]] -> '2-9,11'."""
    return ",".join(f"{a}-{b}" if b != a else f"{a}" for a, b in runs)


def parse_runs(text: str) -> list[tuple[int, int]]:
    """'2-9,11' -> [(2, 9), (11, 11)]."""
    out = []
    for piece in filter(None, (text or "").split(",")):
        a, _, b = piece.partition("-")
        out.append((int(a), int(b or a)))
    return out


class LineIndex:
    """Record index within a part (0-based) -> its source line."""

    def __init__(self, text: str) -> None:
        self.runs = parse_runs(text)
        self.starts: list[int] = []
        total = 0
        for a, b in self.runs:
            self.starts.append(total)
            total += b - a + 1
        self.total = total

    def line(self, index: int) -> int | None:
        if not 0 <= index < self.total:
            return None
        i = bisect.bisect_right(self.starts, index) - 1
        return self.runs[i][0] + index - self.starts[i]


# -- error items -> issues ---------------------------------------------------------------------

def _record(item: dict[str, Any]) -> dict[str, str] | None:
    for k in RECORD_KEYS:
        value = item.get(k)
        if isinstance(value, dict) and value:
            return {str(n): "" if v is None else str(v) for n, v in value.items()}
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            pairs = {}
            for x in value:
                name = x.get("name", x.get("field", x.get("fieldName")))
                if name is not None:
                    pairs[str(name)] = "" if x.get("value") is None else str(x.get("value"))
            if pairs:
                return pairs
    return None


def _index(item: dict[str, Any]) -> int | None:
    for k in INDEX_KEYS:
        value = item.get(k)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return None


def _message(item: dict[str, Any]) -> str:
    for k in MESSAGE_KEYS:
        value = item.get(k)
        if value not in (None, "", [], {}):
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "rejected by the target (no message given)"


def _column(item: dict[str, Any]) -> str | None:
    for k in COLUMN_KEYS:
        value = item.get(k)
        if isinstance(value, list) and value:
            value = value[0].get("name") if isinstance(value[0], dict) else value[0]
        if isinstance(value, (str, int)) and str(value):
            return str(value)
    return None


def _match_records(path: Path, records: list[dict[str, str]], key: list[str], separator: str,
                   jsonl: bool) -> list[int | None]:
    """For each record carried by an error item, its 0-based index in the part file (None when no
    single row matches): by `key`, or by every column the record shares with the file."""
    if not records:
        return []
    if jsonl:
        frame = pl.read_ndjson(path, infer_schema_length=None).select(pl.all().cast(pl.String))
    else:
        frame = pl.read_csv(path, infer_schema=False, separator=separator)
    frame = frame.with_row_index("_i")
    out: list[int | None] = []
    for rec in records:
        cols = [k for k in key if k in rec and k in frame.columns] if key else []
        if key and len(cols) != len(key):
            cols = []
        if not cols:
            cols = [c for c in rec if c in frame.columns]
        if not cols:
            out.append(None)
            continue
        cond = pl.lit(True)
        for c in cols:
            cond = cond & (pl.col(c).fill_null("") == rec[c])
        hits = frame.filter(cond)["_i"]
        if hits.len() != 1 and cols:  # the target may change case (emails): try once more, case-folded
            cond = pl.lit(True)
            for c in cols:
                cond = cond & (pl.col(c).fill_null("").str.to_lowercase() == rec[c].lower())
            hits = frame.filter(cond)["_i"]
        out.append(int(hits[0]) if hits.len() == 1 else None)
    return out


def map_errors(items: list[dict[str, Any]], part: dict[str, Any], key: list[str], separator: str = ",",
               jsonl: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Issues (`target.rejected`) for a job's error items and how many matched no source line.

    An item carrying the record's fields is matched by the key (never by its position among the
    errors); an item with a record index (0-based within the uploaded part) takes that record's
    line; an item with neither is kept with no line and counted as unmapped."""
    index = LineIndex(part.get("lines", ""))
    with_records = [(i, r) for i, r in ((i, _record(it)) for i, it in enumerate(items)) if r is not None]
    path = Path(part.get("file", ""))
    found: dict[int, int | None] = {}
    if with_records and path.is_file():
        found = dict(zip([i for i, _ in with_records],
                         _match_records(path, [r for _, r in with_records], key, separator, jsonl)))
    issues, unmapped = [], 0
    for i, item in enumerate(items):
        record = _record(item)
        at = found.get(i) if record is not None else _index(item)
        line = index.line(at) if at is not None else None
        column = _column(item)
        if line is None:
            unmapped += 1
        issues.append({"line": line, "column": column,
                       "value": (record or {}).get(column) if column else None, "code": "target.rejected",
                       "severity": "error", "message": _message(item), "fixed": None})
    return issues, unmapped


# -- the flow ----------------------------------------------------------------------------------

def _parse_duration(value: float | str) -> float:
    return float(value) if not isinstance(value, str) else duration(value)


def duration(text: str) -> float:
    """'2h', '5s', '1.5m', '250ms' or seconds -> seconds."""
    t = str(text).strip().lower()
    for unit, mult in (("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if t.endswith(unit):
            t, m = t[: -len(unit)], mult
            break
    else:
        m = 1.0
    try:
        value = float(t) * m
    except ValueError:
        raise InputError(f"not a duration: {text!r} (use e.g. 2h, 90s, 5s)")
    if value < 0:
        raise InputError(f"a duration must not be negative: {text!r}")
    return value


def _count_records(path: Path, separator: str, jsonl: bool) -> int:
    if jsonl:
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    return int(pl.scan_csv(path, infer_schema=False, separator=separator).select(pl.len()).collect().item())


class Pusher:
    """One push's state (the report) and the steps that change it; the report is saved after each."""

    def __init__(self, report: PushReport, client: BulkClient, report_path: str | os.PathLike | None,
                 on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.report = report
        self.client = client
        self.report_path = report_path
        self.file = ReportFile(report_path) if report_path else None
        self.on_event = on_event or (lambda _msg: None)
        self.sleep = sleep

    @property
    def p(self) -> dict[str, Any]:
        return self.report.push

    def save(self) -> None:
        """Recount and write the report atomically (when there is a report path)."""
        parts = self.p["parts"]
        sent = [x for x in parts if x.get("job")]
        self.p["uploaded"] = sum(x["rows"] for x in sent)
        self.p["accepted"] = sum(x.get("accepted", 0) for x in sent)
        self.p["failed"] = sum(x.get("failed", 0) for x in sent)
        self.p["unmapped"] = sum(x.get("unmapped", 0) for x in sent)
        self.p["unknown"] = self.p["uploaded"] - self.p["accepted"] - self.p["failed"]
        self.p["not_sent"] = sum(x["rows"] for x in parts if not x.get("job"))
        if self.file:
            self.file.save(self.report)

    def _job(self, part: dict[str, Any]) -> dict[str, Any]:
        return next(j for j in self.p["jobs"] if j["id"] == part["job"])

    def upload(self, part: dict[str, Any], metadata: dict[str, Any], callback_url: str | None) -> None:
        jsonl = self.p.get("format") == "jsonl"
        started = self.client.upload(self.p["object"], part["file"], metadata, callback_url,
                                     content_type="application/x-ndjson" if jsonl else "text/csv")
        part["job"] = started.id
        self.p["jobs"].append({"id": started.id, "part": part["part"], "status": started.status, "records": None,
                               "failed": None, "error": started.error})
        self.save()
        self.on_event(f"part {part['part']} ({part['rows']} rows) uploaded as job {started.id}: {started.status}")

    def _update(self, job: dict[str, Any], status: JobStatus) -> bool:
        new = {"status": status.status, "records": status.records, "failed": status.failed, "error": status.error}
        if all(job.get(k) == v for k, v in new.items()):
            return False
        job.update(new)
        self.save()
        self.on_event(f"job {job['id']} (part {job['part']}): {status.status}"
                      + (f": {status.error}" if status.error else ""))
        return True

    def follow(self, part: dict[str, Any], wait: bool, deadline: float, poll_interval: float) -> None:
        """Poll a part's job to its end (once when not waiting), then fetch and map its errors."""
        job = self._job(part)
        while True:
            status = self.client.status(job["id"])
            self._update(job, status)
            if status.done:
                break
            if not wait:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise PushTimeoutError(
                    f"job {job['id']} (part {part['part']}) is still {status.status} after the --timeout"
                    + self._resume_hint())
            self.sleep(min(poll_interval, left))
        if not status.ok:
            why = f": {status.error}" if status.error else ""
            raise JobFailedError(f"job {job['id']} (part {part['part']}) ended {status.status}{why}: check the job "
                                 "on the hub; rows of this part have an unknown outcome" + self._report_hint())
        self.settle(part, status)

    def settle(self, part: dict[str, Any], status: JobStatus) -> None:
        items = list(self.client.errors(part["job"]))
        key = list(self.p.get("key") or [])
        issues, unmapped = map_errors(items, part, key, self.p.get("separator", ","), self.p.get("format") == "jsonl")
        failed_lines = {i["line"] for i in issues if i["line"] is not None}
        failed = status.failed if status.failed is not None else len(failed_lines) + unmapped
        records = status.records if status.records is not None else part["rows"]
        part["failed"] = min(failed, part["rows"])
        part["accepted"] = max(0, min(records, part["rows"]) - part["failed"])
        part["unmapped"] = unmapped
        part["settled"] = True
        if issues:
            self.report.store.append(pl.DataFrame(issues, schema=ISSUE_SCHEMA))
        self.save()
        self.on_event(f"job {part['job']} (part {part['part']}): {part['accepted']} accepted, {part['failed']} "
                      f"rejected by the target ({unmapped} not matched to a line)")

    def _report_hint(self) -> str:
        return f" (the report {self.report_path} lists what was sent)" if self.report_path else ""

    def _resume_hint(self) -> str:
        if self.report_path:
            return f": run `csvprep push --resume {self.report_path}` later"
        return ": give --report FILE next time to be able to --resume"

    def run(self, wait: bool, timeout: float, poll_interval: float, metadata: dict[str, Any] | None = None,
            callback_url: str | None = None, upload: bool = True) -> None:
        deadline = time.monotonic() + timeout
        for part in self.p["parts"]:
            if part.get("settled"):
                continue
            if not part.get("job"):
                if not upload:
                    continue  # resume never uploads
                self.upload(part, metadata or {}, callback_url)
                if not wait:
                    continue
            self.follow(part, wait, deadline, poll_interval)


def _upload_metadata(hub: str, mode: str, id_field: str | None, jsonl: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"action": mode}
    if mode == "upsert" and id_field:
        meta["identifierFieldName"] = id_field
        if hub == "db":
            meta["primaryKeyName"] = id_field
    if jsonl:
        meta["format"] = "json"
    return meta


def _compare_columns(columns: list[str], metadata: dict[str, Any]) -> tuple[dict[str, list[str]], list[dict]]:
    fields = {str(f.get("vendorPath") or f.get("path") or f.get("name")): f
              for f in metadata.get("fields", []) if isinstance(f, dict)}
    unknown = [c for c in columns if c not in fields]
    read_only = [c for c in columns if c in fields and (flag(fields[c].get("vendorReadOnly"))
                                                         or flag(fields[c].get("createable")) is False)]
    missing = [n for n, f in fields.items() if flag(f.get("vendorRequired")) and n not in columns]
    issues = []
    for c in unknown:
        issues.append((c, "target.unknown_column", "warning", f"the hub's object has no field {c!r}"))
    for c in read_only:
        issues.append((c, "target.read_only", "error", f"{c!r} is read-only on the hub: the upload cannot set it"))
    for c in missing:
        issues.append((c, "target.missing_required", "error", f"the hub requires {c!r}, which the clean file lacks"))
    rows = [{"line": 1, "column": c, "value": None, "code": code, "severity": sev, "message": msg, "fixed": None}
            for c, code, sev, msg in issues]
    return {"columns": columns, "unknown": unknown, "read_only": read_only, "missing_required": missing}, rows


def push(source: str | os.PathLike, *, object: str | None = None, schema: Schema | str | os.PathLike | None = None,
         connector: str | None = None, hub: str | None = None, output: str | os.PathLike | None = None,
         mode: str = "create", id_field: str | None = None, callback_url: str | None = None, wait: bool = True,
         timeout: float | str = 7200.0, poll_interval: float | str = 5.0,
         report_path: str | os.PathLike | None = None, dry_run: bool = False, client: BulkClient | None = None,
         base_url: str | None = None, on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep,
         rejects: str | os.PathLike | None = None, options: Options | None = None, **settings: Any) -> PushReport:
    """Clean `source`, upload each clean part as its own bulk job (in order), follow the jobs and
    map the target's errors to source lines. The report (clean report + `push`) is written to
    `report_path` after every state change; `resume(report_path)` picks the jobs up again.

    `output` keeps the clean files (default: a temporary folder, removed once every job is
    settled). `dry_run` cleans and compares the clean columns with the hub's metadata, uploading
    nothing. Raises HubError (and subclasses) when the push cannot go on; rows are never lost:
    the report says which were sent and which not. Settings as in `clean_file`.
    """
    opts = Options.build(options, **settings)
    if mode not in ("create", "upsert"):
        raise InputError(f"unknown --mode {mode!r}: use create or upsert")
    timeout_s, poll_s = _parse_duration(timeout), _parse_duration(poll_interval)
    resolved = api.resolve_schema(object, schema, connector, opts)
    target_object = object or (resolved.object if resolved else None)
    if not target_object:
        raise InputError("push needs the target object: give --object OBJECT (or --schema FILE naming it)")
    hub_name = hub or hub_of(connector) or hub_of(resolved.connector if resolved else None)
    if client is None and not hub_name:
        raise HubError(f"no hub known for connector {(connector or (resolved.connector if resolved else None))!r}: "
                       "give --hub NAME (e.g. marketing, helpdesk, db)")
    own_client = client is None
    client = client or BulkClient(hub_name, base_url)  # type: ignore[arg-type]
    hub_name = client.hub
    key = [id_field] if id_field else list(resolved.key if resolved else [])
    if mode == "upsert" and not id_field:
        if len(key) != 1:
            raise InputError("--mode upsert needs --id-field FIELD (the field the target matches records on)")
        id_field = key[0]
    jsonl = opts.output_format == "jsonl"
    temp = None
    if output is None:
        temp = Path(tempfile.mkdtemp(prefix="csvprep-push-"))
        stem = Path(source).name.rsplit(".", 1)[0] or "clean"
        output = temp / f"{stem}.clean.{'jsonl' if jsonl else 'csv'}"
    lines = LineCollector()
    pushed: PushReport | None = None
    try:
        report = api.clean_file(source, output, schema=resolved, rejects=rejects, options=opts, clean_lines=lines)
        pushed = PushReport(**{f.name: getattr(report, f.name) for f in fields(report)})
        paths = [Path(x) for x in report.outputs.get("parts", [report.outputs.get("clean")]) if x]
        conf = dict(resolved.output) if resolved else {}
        separator = delimiter_char(opts.out_delimiter or conf.get("delimiter", ","))
        counts = [_count_records(p, separator, jsonl) for p in paths] if report.clean else [0] * len(paths)
        runs = lines.split(counts)
        pushed.push = {"hub": hub_name, "object": target_object, "jobs": [], "uploaded": 0, "accepted": 0,
                       "failed": 0, "unmapped": 0, "unknown": 0, "not_sent": 0, "mode": mode,
                       "key": [id_field] if id_field else key, "separator": separator,
                       "format": "jsonl" if jsonl else "csv",
                       "parts": [{"part": i + 1, "file": str(p), "rows": n, "lines": format_runs(r), "job": None,
                                  "settled": n == 0}
                                 for i, (p, n, r) in enumerate(zip(paths, counts, runs))]}
        if report_path:
            pushed.outputs["report"] = str(report_path)
        pusher = Pusher(pushed, client, report_path, on_event, sleep)
        if dry_run:
            found, issues = _compare_columns(_header(paths[0], separator, jsonl) if paths else [],
                                             client.metadata(target_object))
            pushed.push["dry_run"] = found
            if temp is not None:  # removed below: the report keeps no path into it
                pushed.outputs = {k: v for k, v in pushed.outputs.items() if k == "report"}
            if issues:
                pushed.store.append_frame(pl.DataFrame(issues, schema=ISSUE_SCHEMA), first=True)
            pusher.save()
            return pushed
        pusher.save()
        try:
            pusher.run(wait, timeout_s, poll_s, _upload_metadata(hub_name, mode, id_field, jsonl), callback_url)
        finally:
            pusher.save()
        if temp is not None and pushed.settled:
            shutil.rmtree(temp, ignore_errors=True)
            temp = None
            pushed.outputs = {k: v for k, v in pushed.outputs.items() if k == "report"}
            pusher.save()
        return pushed
    finally:
        sent = pushed is not None and any(p.get("job") for p in pushed.push.get("parts", []))
        if temp is not None and (dry_run or not sent):  # kept while a job may still report errors to map
            shutil.rmtree(temp, ignore_errors=True)
        if own_client:
            client.close()


def _header(path: Path, separator: str, jsonl: bool) -> list[str]:
    if jsonl:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
        return list(json.loads(first)) if first.strip() else []
    return pl.read_csv(path, infer_schema=False, separator=separator, n_rows=0).columns


def resume(report_path: str | os.PathLike, *, client: BulkClient | None = None, base_url: str | None = None,
           wait: bool = True, timeout: float | str = 7200.0, poll_interval: float | str = 5.0,
           on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep) -> PushReport:
    """Pick up a push from its report: poll its jobs, fetch and map their errors; never uploads."""
    report = PushReport.load(report_path)
    own_client = client is None
    client = client or BulkClient(str(report.push.get("hub") or ""), base_url)
    try:
        pusher = Pusher(report, client, report_path, on_event, sleep)
        try:
            pusher.run(wait, _parse_duration(timeout), _parse_duration(poll_interval), upload=False)
        finally:
            pusher.save()
        return report
    finally:
        if own_client:
            client.close()
