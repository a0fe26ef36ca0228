"""A bulk-API emulator (Cloud Elements / SAP Open Connectors hubs) on 127.0.0.1, for the push tests.

It follows ../shared/reference/bulk-api.md: `GET /hubs/{hub}/objects`, `.../objects/{o}/metadata`,
multipart `POST /hubs/{hub}/bulk/{o}` (parts `file` and `metaData`, streamed to disk), status
moving CREATED -> RUNNING -> COMPLETED over polls (bulk v2 or v3 shape), paged errors
(`pageSize`, `nextPage`, `Elements-Next-Page-Token`), `PUT .../cancel`, 401 on bad credentials,
404 on unknown jobs, and a signed callback to `Elements-Async-Callback-Url`. Records are judged
by a rule of its own: an email on a blocked domain is refused. Faults (5xx, 429 with Retry-After,
HTML pages, broken JSON) are injected per request with `fail`.

Run alone: `python tests/bulk_emulator.py --port 8765 [--discard]` (user secret `user-secret-1234`,
element token `element-token-5678`).
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import itertools
import json
import re
import shutil
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

USER, ELEMENT = "user-secret-1234", "element-token-5678"
CALLBACK_KEY = "callback-signature-key"
PREFIX = "/elements/api-v2"
CONTACT_FIELDS = [
    {"vendorPath": "C_EmailAddress", "vendorDisplayName": "Email Address", "type": "string", "vendorRequired": True},
    {"vendorPath": "C_FirstName", "vendorDisplayName": "First Name", "type": "string", "vendorRequired": "false"},
    {"vendorPath": "C_LastName", "vendorDisplayName": "Last Name", "type": "string"},
    {"vendorPath": "C_Company", "vendorDisplayName": "Company", "type": "string"},
    {"vendorPath": "C_BusPhone", "vendorDisplayName": "Business Phone", "type": "string"},
    {"vendorPath": "C_Website1", "vendorDisplayName": "Website", "type": "string"},
    {"vendorPath": "C_Employees", "vendorDisplayName": "Employees", "type": "number"},
    {"vendorPath": "C_DateCreated", "type": "date", "vendorReadOnly": "true"},
    {"vendorPath": "ContactID", "type": "string", "createable": "false", "updateable": "false"},
]
SHAPES = ["record", "recordIndex", "none", "data", "index", "fieldValues", "row"]


@dataclass
class Job:
    id: str
    hub: str
    object: str
    records: int
    errors: list[dict[str, Any]]
    callback: str | None
    metadata: dict[str, Any]
    states: list[str] = field(default_factory=lambda: ["CREATED", "RUNNING", "RUNNING", "COMPLETED"])
    at: int = 0
    error: str | None = None
    bytes: int = 0
    called_back: bool = False

    @property
    def state(self) -> str:
        return self.states[min(self.at, len(self.states) - 1)]


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]
    times: int


class Emulator:
    """The server and its state; `start()` binds a free port on 127.0.0.1."""

    def __init__(self, discard: bool = False, blocked_domain: str = "blocked.example") -> None:
        self.hubs: dict[str, dict[str, list[dict[str, Any]]]] = {
            "marketing": {"contact": CONTACT_FIELDS, "account": CONTACT_FIELDS[:3], "activities": [],
                          "campaign": [], "list": []},
            "helpdesk": {"Contact": CONTACT_FIELDS[:4]},
        }
        self.jobs: dict[str, Job] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.status_shape = "v2"  # or "v3" (jobStatus, recordCount, errorCount)
        self.error_shape = "mixed"  # or one of SHAPES
        self.outcome: str | None = None  # "ABORTED" / "ERROR": the next jobs end that way
        self.reverse_errors = False  # list the errors last record first (results need not follow the file)
        self.running_polls = 2  # status polls that answer RUNNING before COMPLETED
        self.uploads: list[dict[str, Any]] = []  # per upload: hub, object, metadata, filename, bytes, header
        self.discard = discard
        self.blocked_domain = blocked_domain
        self.tmp = Path(tempfile.mkdtemp(prefix="bulk-emulator-"))
        self._ids = itertools.count(1001)
        self._shapes = itertools.count()  # error items take the shapes in turn, across jobs
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> Emulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX}"

    def fail(self, method: str, path_regex: str, status: int, body: bytes | str | dict | list | None = None,
             times: int = 1, content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` requests matching (method, path) with this instead."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else (body or b"")
        self.faults.append(Fault(method, re.compile(path_regex), status, data, content_type, headers or {}, times))

    # -- the hub's own rules ---------------------------------------------------------------

    def judge(self, path: Path, metadata: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """(records, error items) of an uploaded CSV or JSON Lines file."""
        if self.discard:
            with path.open("rb") as fh:
                return max(0, sum(1 for _ in fh) - 1), []
        rows: list[dict[str, Any]] = []
        with path.open(encoding="utf-8", newline="") as fh:
            if str(metadata.get("format", "")).lower() == "json":
                rows = [json.loads(line) for line in fh if line.strip()]
            else:
                rows = list(csv.DictReader(fh))
        errors = []
        for i, row in enumerate(rows):
            for name, value in row.items():
                if "email" in name.lower() and str(value or "").lower().endswith("@" + self.blocked_domain):
                    message = f"74234: Invalid email address {value}: domain {self.blocked_domain} is blocked"
                    errors.append(self._error_item(next(self._shapes), i, row, name, message))
        if self.reverse_errors:
            errors.reverse()
        return len(rows), errors

    def _error_item(self, n: int, index: int, row: dict[str, Any], column: str, message: str) -> dict[str, Any]:
        shape = SHAPES[n % len(SHAPES)] if self.error_shape == "mixed" else self.error_shape
        item: dict[str, Any] = {"status": message}
        if shape in ("record", "data"):
            item[shape] = dict(row)
            item["field"] = column
        elif shape == "fieldValues":
            item = {"message": message, "fieldValues": [{"name": k, "value": v} for k, v in row.items()],
                    "invalidFields": [column]}
        elif shape in ("recordIndex", "index", "row"):
            item[shape] = index if shape != "row" else str(index)
            item["field"] = column
        return item

    def status_body(self, job: Job) -> dict[str, Any]:
        failed = len(job.errors) if job.state in ("COMPLETED",) else 0
        if self.status_shape == "v3":
            out: dict[str, Any] = {"id": int(job.id), "jobStatus": job.state, "objectName": job.object,
                                   "jobDirection": "UPLOAD", "recordCount": job.records, "errorCount": failed}
            if job.error:
                out["statusMessage"] = job.error
            return out
        out = {"id": job.id, "status": job.state, "recordsCount": job.records, "recordsFailedCount": failed,
               "objectName": job.object}
        if job.error:
            out["error"] = job.error
        return out

    def advance(self, job: Job) -> None:
        with self._lock:
            if job.state in ("CREATED", "RUNNING", "CANCELLATION_PENDING"):
                job.at += 1
            finished = job.state not in ("CREATED", "RUNNING", "STARTED", "CANCELLATION_PENDING")
            call = finished and job.callback and not job.called_back
            if call:
                job.called_back = True
        if call:
            body = json.dumps(self.status_body(job)).encode()
            digest = hmac.new(CALLBACK_KEY.encode(), body, hashlib.sha256).digest()
            signature = "sha256=" + base64.b64encode(digest).decode()
            req = urllib.request.Request(job.callback, data=body, method="POST", headers={
                "Content-Type": "application/json", "Elements-Webhook-Signature": signature})
            threading.Thread(target=_post_quietly, args=(req,), daemon=True).start()


def _post_quietly(req: urllib.request.Request) -> None:
    try:
        urllib.request.urlopen(req, timeout=5).read()
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    emu: Emulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    # -- responses -------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _fault(self, method: str, path: str) -> bool:
        for f in self.emu.faults:
            if f.times > 0 and f.method == method and f.pattern.search(path):
                f.times -= 1
                self._drain()
                self._send(f.status, f.body, f.content_type, f.headers)
                return True
        return False

    def _drain(self) -> None:
        for _ in self._body():
            pass

    def _body(self):
        """The request body in chunks (Content-Length or chunked), never all at once."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 1 << 20))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def _authorised(self) -> bool:
        given = {}
        for part in self.headers.get("Authorization", "").split(","):
            kind, _, value = part.strip().partition(" ")
            given[kind] = value.strip()
        return given.get("User") == USER and given.get("Element") == ELEMENT

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        self.emu.log.append((method, path, {k: v for k, v in self.headers.items() if k.lower() != "authorization"}))
        if self._fault(method, path):
            return
        if not path.startswith(PREFIX + "/hubs/"):
            self._drain()
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        if not self._authorised():
            self._drain()
            return self._json(401, {"requestId": "r-1", "message": "Invalid Organization or User secret, "
                                    "or invalid Element token provided."})
        parts = [unquote(p) for p in path[len(PREFIX) + len("/hubs/"):].split("/")]
        hub, rest = parts[0], parts[1:]
        if hub not in self.emu.hubs:
            self._drain()
            return self._json(404, {"message": f"No hub {hub}"})
        objects = self.emu.hubs[hub]
        if method == "GET" and rest == ["objects"]:
            return self._json(200, list(objects))
        if method == "GET" and len(rest) == 3 and rest[0] == "objects" and rest[2] == "metadata":
            if rest[1] not in objects:
                return self._json(404, {"message": f"No object {rest[1]} on hub {hub}"})
            return self._json(200, {"fields": objects[rest[1]]})
        if method == "POST" and len(rest) == 2 and rest[0] == "bulk":
            return self._upload(hub, rest[1])
        if len(rest) == 3 and rest[0] == "bulk":
            job = self.emu.jobs.get(rest[1])
            if job is None or job.hub != hub:
                self._drain()
                return self._json(404, {"requestId": "r-2", "message": f"No job found with id {rest[1]}"})
            if method == "GET" and rest[2] == "status":
                self.emu.advance(job)
                return self._json(200, self.emu.status_body(job))
            if method == "GET" and rest[2] == "errors":
                size = int((query.get("pageSize") or ["200"])[0])
                token = (query.get("nextPage") or [""])[0]
                start = int(token.removeprefix("page-")) if token else 0
                page = job.errors[start:start + size] if job.state == "COMPLETED" else []
                headers = {"Elements-Returned-Count": str(len(page))}
                if start + size < len(job.errors) and job.state == "COMPLETED":
                    headers["Elements-Next-Page-Token"] = f"page-{start + size}"
                return self._json(200, page, headers)
            if method == "PUT" and rest[2] == "cancel":
                with self.emu._lock:
                    job.states, job.at = ["CANCELLATION_PENDING", "CANCELLED"], 0
                return self._json(200, {"id": job.id, "status": "CANCELLATION_PENDING"})
        self._drain()
        self._json(404, {"message": f"No route {method} {path}"})

    def _upload(self, hub: str, obj: str) -> None:
        kind = self.headers.get("Content-Type", "")
        match = re.search(r'boundary="?([^";]+)"?', kind)
        if not kind.startswith("multipart/form-data") or not match:
            self._drain()
            return self._json(400, {"message": "multipart/form-data expected"})
        if obj not in self.emu.hubs[hub]:
            self._drain()
            return self._json(404, {"message": f"No object {obj} on hub {hub}"})
        folder = Path(tempfile.mkdtemp(dir=self.emu.tmp))
        try:
            fields = parse_multipart(self._body(), match.group(1).encode(), folder)
        except ValueError as exc:
            return self._json(400, {"message": f"bad multipart body: {exc}"})
        if "file" not in fields:
            return self._json(400, {"message": "the `file` part is required"})
        try:
            metadata = json.loads(fields["metaData"][1].read_text()) if "metaData" in fields else {}
        except ValueError:
            return self._json(400, {"message": "metaData is not JSON"})
        filename, file_path = fields["file"]
        size = file_path.stat().st_size
        with file_path.open("rb") as fh:
            header = fh.readline().decode("utf-8", "replace").rstrip("\r\n")
        records, errors = self.emu.judge(file_path, metadata)
        shutil.rmtree(folder, ignore_errors=True)
        job = Job(str(next(self.emu._ids)), hub, obj, records, errors,
                  self.headers.get("Elements-Async-Callback-Url"), metadata,
                  ["CREATED"] + ["RUNNING"] * self.emu.running_polls + ["COMPLETED"])
        job.bytes = size
        ident = metadata.get("identifierFieldName")
        if ident and ident not in header.split(","):
            job.states, job.error = ["CREATED", "ERROR"], f"identifierFieldName {ident} is not a field of the file"
        elif self.emu.outcome:
            job.states = ["CREATED", "RUNNING", self.emu.outcome]
            job.error = "All prospects require either 'email' or 'id'" if self.emu.outcome == "ABORTED" else None
        self.emu.jobs[job.id] = job
        self.emu.uploads.append({"hub": hub, "object": obj, "metadata": metadata, "filename": filename,
                                 "bytes": size, "header": header, "job": job.id,
                                 "callback": job.callback})
        self._json(200, {"id": job.id, "status": "CREATED"} if self.emu.status_shape == "v2"
                   else {"instanceId": 425904, "id": job.id, "status": "CREATED"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


def parse_multipart(chunks, boundary: bytes, folder: Path) -> dict[str, tuple[str | None, Path]]:
    """Stream a multipart/form-data body into one file per part: {name: (filename, path)}."""
    delim = b"\r\n--" + boundary
    buf = b"\r\n"  # so the first boundary looks like every other one
    it = iter(chunks)
    out: dict[str, tuple[str | None, Path]] = {}

    def more() -> bool:
        nonlocal buf
        chunk = next(it, None)
        if chunk is None:
            return False
        buf += chunk
        return True

    while delim not in buf:
        if not more():
            raise ValueError("no opening boundary")
    buf = buf[buf.index(delim) + len(delim):]
    n = 0
    while True:
        while len(buf) < 2 and more():
            pass
        if buf.startswith(b"--"):
            return out
        if not buf.startswith(b"\r\n"):
            raise ValueError("bad boundary line")
        buf = buf[2:]
        while b"\r\n\r\n" not in buf:
            if not more() or len(buf) > 65536:
                raise ValueError("part headers never end")
        head, buf = buf.split(b"\r\n\r\n", 1)
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition")), "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if not name:
            raise ValueError("a part has no name")
        n += 1
        target = folder / f"part-{n}"
        with target.open("wb") as fh:
            while True:
                at = buf.find(delim)
                if at >= 0:
                    fh.write(buf[:at])
                    buf = buf[at + len(delim):]
                    break
                keep = len(delim) - 1
                if len(buf) > keep:
                    fh.write(buf[:-keep])
                    buf = buf[-keep:]
                if not more():
                    raise ValueError("the body ends inside a part")
        out[name.group(1)] = (filename.group(1) if filename else None, target)


def main() -> None:  # pragma: no cover - manual runs and the memory measurement
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--discard", action="store_true", help="only count the records (big files)")
    args = ap.parse_args()
    emu = Emulator(discard=args.discard).start(args.port)
    print(emu.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
