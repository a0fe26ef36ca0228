"""The bulk API: client, signatures, hub commands and push, against the emulator on 127.0.0.1."""
from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import polars as pl
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.connectors import hub
from csvprep.connectors.hub import BulkClient, JobStatus, schema_from_hub
from csvprep.errors import HubCredentialsError, HubError, HubResponseError

sys.path.insert(0, str(Path(__file__).parent))
from bulk_emulator import CALLBACK_KEY, ELEMENT, USER, Emulator  # noqa: E402

AUTH = f"User {USER}, Element {ELEMENT}"
SECRETS = (USER, ELEMENT, "org-secret-9999")


@pytest.fixture
def emu():
    e = Emulator().start()
    yield e
    e.stop()


@pytest.fixture
def env(emu, monkeypatch, tmp_path):
    """Credentials and base URL in the environment, as the CLI reads them; short retry waits;
    push's temporary folders inside the test's own."""
    monkeypatch.setattr(hub, "BACKOFF", 0.01)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("CSVPREP_USER_SECRET", USER)
    monkeypatch.setenv("CSVPREP_ELEMENT_TOKEN", ELEMENT)
    monkeypatch.setenv("CSVPREP_ORG_SECRET", "org-secret-9999")
    monkeypatch.setenv("CSVPREP_BASE_URL", emu.url)
    return emu


@pytest.fixture
def runner():
    return CliRunner()


def client(emu: Emulator, **kw) -> BulkClient:
    return BulkClient("marketing", emu.url, auth=AUTH, backoff=0.01, **kw)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def assert_one_line_failure(result, *wanted: str) -> str:
    """Exit 2, one line on stderr, no traceback, no secret anywhere in the output."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.output
    for secret in SECRETS:
        assert secret not in result.output
    for w in wanted:
        assert w in err, err
    return err


# -- signatures -------------------------------------------------------------------------------

def test_documented_signature_vector():
    body = b"<INSERT_EVENT_NOTIFICATION_RESPONSE_BODY>"
    sig = "sha256=jHdbRx5EZAsOfTwAPJOGkNUzQMVVdu5VJlxcsk+G6jQ="
    assert csvprep.verify_signature(body, sig, "MySecretEventSignatureKey")
    assert csvprep.verify_signature(body, sig, b"MySecretEventSignatureKey")
    assert not csvprep.verify_signature(body + b" ", sig, "MySecretEventSignatureKey")
    assert not csvprep.verify_signature(body, sig, "MySecretEventSignatureKeY")
    assert not csvprep.verify_signature(body, sig.removeprefix("sha256="), "MySecretEventSignatureKey")
    assert not csvprep.verify_signature(body, "sha256=\u00e9", "MySecretEventSignatureKey")
    assert not csvprep.verify_signature(body, sig, "")


def test_verify_signature_command(runner, tmp_path, monkeypatch):
    body = tmp_path / "body.txt"
    body.write_bytes(b"<INSERT_EVENT_NOTIFICATION_RESPONSE_BODY>")
    sig = "sha256=jHdbRx5EZAsOfTwAPJOGkNUzQMVVdu5VJlxcsk+G6jQ="
    monkeypatch.setenv("HOOK_KEY", "MySecretEventSignatureKey")
    ok = runner.invoke(cli, ["verify-signature", "--key-env", "HOOK_KEY", "--signature", sig, str(body)])
    assert ok.exit_code == 0, ok.output
    key = tmp_path / "key"
    key.write_text("MySecretEventSignatureKey\n")
    stdin = runner.invoke(cli, ["verify-signature", "--key-file", str(key), "--signature", sig, "-"],
                          input=b"<INSERT_EVENT_NOTIFICATION_RESPONSE_BODY>")
    assert stdin.exit_code == 0, stdin.output
    bad = runner.invoke(cli, ["verify-signature", "--key-file", str(key), "--signature", sig], input=b"other body")
    assert bad.exit_code == 1 and "invalid" in bad.stderr
    monkeypatch.delenv("HOOK_KEY")
    missing = runner.invoke(cli, ["verify-signature", "--key-env", "HOOK_KEY", "--signature", sig, str(body)])
    assert_one_line_failure(missing, "HOOK_KEY")
    both = runner.invoke(cli, ["verify-signature", "--signature", sig, str(body)])
    assert_one_line_failure(both, "--key-env")
    nobody = runner.invoke(cli, ["verify-signature", "--key-file", str(key), "--signature", sig,
                                 str(tmp_path / "nope")])
    assert_one_line_failure(nobody, "nope")


# -- the client -------------------------------------------------------------------------------

def test_client_discovery_and_metadata(emu):
    with client(emu) as c:
        assert c.objects() == ["contact", "account", "activities", "campaign", "list"]
        fields = c.metadata("contact")["fields"]
    assert {f["vendorPath"] for f in fields} >= {"C_EmailAddress", "ContactID"}
    sent = emu.log[-1][2]
    assert "Authorization" not in sent  # the emulator never logs it; it checked it


def test_auth_header_from_environment(emu, monkeypatch):
    monkeypatch.setenv("CSVPREP_USER_SECRET", USER)
    monkeypatch.setenv("CSVPREP_ELEMENT_TOKEN", ELEMENT)
    monkeypatch.delenv("CSVPREP_ORG_SECRET", raising=False)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json=["contact"])

    mock = httpx.MockTransport(handler)
    assert BulkClient("marketing", "http://example.invalid/x", transport=mock).objects() == ["contact"]
    monkeypatch.setenv("CSVPREP_ORG_SECRET", "org-secret-9999")
    BulkClient("marketing", "http://example.invalid/x", transport=httpx.MockTransport(handler)).objects()
    assert seen == [AUTH, AUTH + ", Organization org-secret-9999"]
    monkeypatch.delenv("CSVPREP_ELEMENT_TOKEN")
    with pytest.raises(HubCredentialsError, match="CSVPREP_ELEMENT_TOKEN"):
        BulkClient("marketing", "http://example.invalid/x")


def test_upload_status_and_paged_errors(emu, tmp_path):
    f = tmp_path / "contact.csv"
    rows = ["C_EmailAddress,C_FirstName"] + [f"p{i}@{'blocked.example' if i % 3 == 0 else 'ok.example'},P{i}"
                                             for i in range(30)]
    f.write_text("\n".join(rows) + "\n")
    with client(emu) as c:
        job = c.upload("contact", f, {"action": "create"}, callback_url="http://127.0.0.1:9/cb")
        assert job.status == "CREATED"
        seen = [c.status(job.id).status for _ in range(3)]
        assert seen == ["RUNNING", "RUNNING", "COMPLETED"]
        done = c.status(job.id)
        assert (done.records, done.failed, done.ok) == (30, 10, True)
        items = list(c.errors(job.id, page_size=3))
    up = emu.uploads[-1]
    assert up["metadata"] == {"action": "create"} and up["filename"] == "contact.csv"
    assert up["bytes"] == f.stat().st_size and up["callback"] == "http://127.0.0.1:9/cb"
    assert len(items) == 10 and all("blocked.example" in (i.get("status") or i.get("message")) for i in items)
    pages = [p for m, p, h in emu.log if p.endswith("/errors")]
    assert len(pages) == 4  # 3 + 3 + 3 + 1, the last without a token


def test_status_shapes():
    v2 = JobStatus.parse({"id": "1", "status": "COMPLETE", "recordsCount": "5", "recordsFailedCount": 1})
    v3 = JobStatus.parse({"id": 2, "jobStatus": "completed", "recordCount": 5, "errorCount": 0})
    assert (v2.ok, v2.records, v2.failed) == (True, 5, 1)
    assert (v3.id, v3.ok, v3.records, v3.failed) == ("2", True, 5, 0)
    odd = JobStatus.parse({"id": "3", "status": "PAUSED"})
    assert odd.done and not odd.ok
    for status in ("CREATED", "STARTED", "RUNNING", "CANCELLATION_PENDING"):
        assert not JobStatus.parse({"id": "4", "status": status}).done
    for status in ("ERROR", "ABORTED", "CANCELLED", "CANCELED"):
        s = JobStatus.parse({"id": "4", "status": status, "error": "boom"})
        assert s.done and not s.ok and s.error == "boom"
    with pytest.raises(HubResponseError):
        JobStatus.parse(["not", "an", "object"], "5")


def test_get_retries_5xx_and_honours_retry_after(emu, tmp_path):
    with client(emu) as c:
        emu.fail("GET", "/objects$", 503, {"message": "busy"}, times=2)
        assert c.objects()[0] == "contact"
        emu.fail("GET", "/objects$", 429, {"message": "slow down"}, headers={"Retry-After": "1"})
        start = time.monotonic()
        assert c.objects()[0] == "contact"
        assert time.monotonic() - start >= 0.9
        emu.fail("GET", "/objects$", 502, times=10)
        with pytest.raises(HubError, match="HTTP 502"):
            c.objects()


def test_upload_is_not_retried_once_it_reached_the_server(emu, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("C_EmailAddress\na@ok.example\n")
    with client(emu) as c:
        emu.fail("POST", "/bulk/contact$", 503)
        with pytest.raises(HubError, match="HTTP 503"):
            c.upload("contact", f)
        emu.fail("POST", "/bulk/contact$", 429, {"message": "File too large"})
        with pytest.raises(HubError, match="size or time limit"):
            c.upload("contact", f)
    assert len([1 for m, p, h in emu.log if m == "POST"]) == 2 and not emu.uploads


def test_upload_retried_on_connect_failure(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("a\n1\n")
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        assert b'name="metaData"' in request.read() and b"a\n1\n" in request.read()
        return httpx.Response(200, json={"id": "7", "status": "CREATED"})

    c = BulkClient("marketing", "http://example.invalid/x", auth=AUTH, backoff=0.01,
                   transport=httpx.MockTransport(handler))
    assert c.upload("contact", f).id == "7" and len(calls) == 2


def test_client_bad_answers(emu):
    with client(emu) as c:
        with pytest.raises(HubError, match="no bulk job '424242'"):
            c.status("424242")
        emu.fail("GET", "/objects$", 200, "<html><body>Maintenance</body></html>", content_type="text/html")
        with pytest.raises(HubResponseError, match="HTML page instead of JSON"):
            c.objects()
        emu.fail("GET", "/objects$", 200, '["contact", ')
        with pytest.raises(HubResponseError, match="malformed JSON"):
            c.objects()
    with pytest.raises(HubCredentialsError, match="HTTP 401"):
        BulkClient("marketing", emu.url, auth="User nope, Element nope").objects()
    with pytest.raises(HubError, match="cannot connect.*after 2 attempts"):
        BulkClient("marketing", f"http://127.0.0.1:{closed_port()}/x", auth=AUTH, backoff=0.01,
                   attempts=2).objects()


def test_schema_from_metadata():
    made = schema_from_hub({"fields": [
        {"vendorPath": "Email", "vendorDisplayName": "E-mail", "type": "string", "vendorRequired": "true"},
        {"vendorPath": "Phone", "type": "string"},
        {"vendorPath": "Count", "type": "number", "vendorRequired": False},
        {"vendorPath": "Done", "type": "boolean"},
        {"vendorPath": "Id", "type": "string", "vendorReadOnly": True},
        {"vendorPath": "Status", "type": "string", "createable": "false"},
        {"vendorPath": "Secret", "type": "string", "hidden": "true"},
    ]}, "thing", "crm")
    s = made.schema
    assert [(f.name, f.type, f.required) for f in s.fields] == [
        ("Email", "email", True), ("Phone", "phone", False), ("Count", "decimal", False), ("Done", "boolean", False)]
    assert s.field("Email").aliases == ["E-mail"]
    assert made.left_out == [("Id", "read-only"), ("Status", "read-only"), ("Secret", "hidden")]
    text = made.to_yaml()
    assert "# left out: Id (read-only)" in text and "# inferred from the name: Phone -> phone" in text
    assert csvprep.schema.parse_schema(__import__("yaml").safe_load(text)).field("Phone").type == "phone"


# -- hub commands -----------------------------------------------------------------------------

def test_hub_objects_and_schema_from_hub(runner, env, tmp_path):
    listed = runner.invoke(cli, ["hub", "objects"])
    assert listed.exit_code == 0 and listed.stdout.split() == ["contact", "account", "activities", "campaign", "list"]
    helpdesk = runner.invoke(cli, ["hub", "objects", "--connector", "salesforce"])
    assert helpdesk.exit_code == 0 and helpdesk.stdout.split() == ["Contact"]
    out = tmp_path / "contact.yaml"
    made = runner.invoke(cli, ["schema", "from-hub", "contact", "--hub", "marketing", "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert "# left out: ContactID (read-only)" in out.read_text()
    data = tmp_path / "in.csv"
    data.write_text("Email Address,First Name\nA@Example.com,Ann\nnot-an-email,Bob\n")
    checked = runner.invoke(cli, ["check", str(data), "--schema", str(out), "--format", "json"])
    assert checked.exit_code == 1 and json.loads(checked.stdout)["rows"] == {"read": 2, "clean": 1, "rejected": 1}
    direct = runner.invoke(cli, ["check", str(data), "--connector", "hub", "--object", "contact", "--hub", "marketing",
                                 "--format", "json"])
    assert direct.exit_code == 1 and json.loads(direct.stdout)["rows"]["rejected"] == 1


@pytest.mark.parametrize("case", ["unreachable", "credentials", "refused", "html", "malformed", "unknown object"])
def test_hub_command_failures(runner, env, monkeypatch, case):
    args = ["hub", "objects"]
    if case == "unreachable":
        monkeypatch.setenv("CSVPREP_BASE_URL", f"http://127.0.0.1:{closed_port()}/elements/api-v2")
        want = "cannot connect"
    elif case == "credentials":
        monkeypatch.delenv("CSVPREP_USER_SECRET")
        want = "CSVPREP_USER_SECRET"
    elif case == "refused":
        monkeypatch.setenv("CSVPREP_ELEMENT_TOKEN", "wrong-token-0000")
        want = "HTTP 401"
    elif case == "html":
        env.fail("GET", "/objects$", 200, "<!DOCTYPE html><html>Bad gateway</html>", content_type="text/html")
        want = "HTML page"
    elif case == "malformed":
        env.fail("GET", "/objects$", 200, "{]")
        want = "malformed JSON"
    else:
        args, want = ["schema", "from-hub", "nothing"], "HTTP 404"
    if case in ("unreachable",):
        args += ["--hub", "marketing"]
    assert_one_line_failure(runner.invoke(cli, args), want)


# -- push -------------------------------------------------------------------------------------

POLL = ["--poll-interval", "0.01s"]


def contacts(tmp_path: Path, n: int = 40, blocked_every: int = 4, invalid: tuple[int, ...] = (5,)) -> tuple[Path, dict]:
    """A contact file with human headers; {email: source line}. Every `blocked_every`-th row has an
    email on the emulator's blocked domain; the rows in `invalid` have no valid email at all."""
    lines = ["Email Address,First Name,Last Name,Company"]
    where = {}
    for i in range(n):
        if i in invalid:
            email = f"person{i}-at-nowhere"
        elif blocked_every and i % blocked_every == 1:
            email = f"person{i}@blocked.example"
        else:
            email = f"person{i}@ok.example"
        lines.append(f"{email},First{i},Last{i},\"Acme, Inc\"")
        where[email] = len(lines)  # the header is line 1
    path = tmp_path / "contacts.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, where


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def assert_accounted(rep: dict) -> None:
    """Every row in exactly one place: rows.read == rows.rejected + push.uploaded (+ not sent),
    uploaded == accepted + failed (+ unknown outcome)."""
    p = rep["push"]
    assert rep["rows"]["read"] == rep["rows"]["rejected"] + p["uploaded"] + p["not_sent"]
    assert p["uploaded"] == p["accepted"] + p["failed"] + p["unknown"]
    assert set(p) >= {"hub", "object", "jobs", "uploaded", "accepted", "failed", "unmapped"}
    for job in p["jobs"]:
        assert set(job) == {"id", "part", "status", "records", "failed", "error"}
    text = json.dumps(rep)
    for secret in SECRETS:
        assert secret not in text


def test_push_maps_every_target_error_to_its_source_line(runner, env, tmp_path):
    env.reverse_errors = True  # the target lists errors in an order of its own
    src, where = contacts(tmp_path, n=60)
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report),
                                 "--max-rows", "20", *POLL])
    assert result.exit_code == 1, result.output
    rep = load(report)
    assert_accounted(rep)
    p = rep["push"]
    assert rep["rows"] == {"read": 60, "clean": 59, "rejected": 1}
    assert [j["part"] for j in p["jobs"]] == [1, 2, 3] and all(j["status"] == "COMPLETED" for j in p["jobs"])
    assert [u["filename"] for u in env.uploads] == [f"contacts.clean.part-00{i}.csv" for i in (1, 2, 3)]
    items = [e for j in env.jobs.values() for e in j.errors]
    blocked = {line for email, line in where.items() if "blocked" in email}
    assert p["uploaded"] == 59 and p["failed"] == len(blocked) == len(items) and p["accepted"] == 59 - len(blocked)
    shapes = {next((k for k in ("record", "data", "fieldValues", "recordIndex", "index", "row") if k in e), "none")
              for e in items}
    assert shapes == {"record", "data", "fieldValues", "recordIndex", "index", "row", "none"}
    target = [i for i in rep["issues"] if i["code"] == "target.rejected"]
    assert len(target) == len(items) and all(i["severity"] == "error" for i in target)
    mapped = [i for i in target if i["line"] is not None]
    for issue in mapped:  # the line is the row whose email the target's message names
        email = issue["message"].split("address ")[1].split(":")[0]
        assert issue["line"] == where[email] and issue["column"] == "C_EmailAddress"
    assert p["unmapped"] == len(target) - len(mapped) == sum(1 for e in items if not ({"record", "data",
                                                             "fieldValues", "recordIndex", "index", "row"} & set(e)))
    assert {i["line"] for i in mapped} < blocked
    assert "Traceback" not in result.output


def test_push_exit_0_when_every_row_is_accepted(runner, env, tmp_path):
    src, _ = contacts(tmp_path, n=10, blocked_every=0, invalid=())
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report), *POLL])
    assert result.exit_code == 0, result.output
    rep = load(report)
    assert_accounted(rep)
    assert rep["push"]["accepted"] == rep["rows"]["read"] == 10 and rep["push"]["failed"] == 0
    assert rep["push"]["hub"] == "marketing" and rep["push"]["object"] == "contact"
    assert env.uploads[0]["metadata"] == {"action": "create"}
    assert env.uploads[0]["header"] == "C_EmailAddress,C_FirstName,C_LastName,C_Company"


def test_push_exit_1_for_rows_rejected_before_upload(runner, env, tmp_path):
    src, _ = contacts(tmp_path, n=10, blocked_every=0, invalid=(3, 7))
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report), *POLL])
    assert result.exit_code == 1
    rep = load(report)
    assert_accounted(rep)
    assert rep["rows"]["rejected"] == 2 and rep["push"]["uploaded"] == rep["push"]["accepted"] == 8


def test_push_library_writes_the_report_at_every_state_change(env, tmp_path):
    src, _ = contacts(tmp_path, n=12)
    report = tmp_path / "push.json"
    seen = []

    def event(message: str) -> None:  # the report on disk already says what the message says
        seen.append([(j["id"], j["status"]) for j in load(report)["push"]["jobs"]])

    client = BulkClient("marketing", env.url, auth=AUTH, backoff=0.01)
    from csvprep.push import push
    rep = push(src, object="contact", client=client, report_path=report, poll_interval=0.01, on_event=event)
    statuses = [s[-1][1] for s in seen if s]
    assert statuses[:3] == ["CREATED", "RUNNING", "COMPLETED"]
    assert rep.push["failed"] == 2 and load(report)["push"]["failed"] == 2  # rows 1 and 9 (5 is invalid)
    assert not list(tmp_path.glob(".push.json.*"))  # no temporary file left beside it


def test_push_retries_a_flaky_status_and_reads_the_v3_shape(runner, env, tmp_path):
    env.status_shape = "v3"
    env.fail("GET", "/status$", 503, {"message": "try later"}, times=2)
    env.fail("GET", "/errors$", 429, {"message": "slow down"}, headers={"Retry-After": "0"})
    src, where = contacts(tmp_path, n=8)
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report), *POLL])
    assert result.exit_code == 1, result.output
    rep = load(report)
    assert_accounted(rep)
    assert rep["push"]["jobs"][0]["status"] == "COMPLETED" and rep["push"]["failed"] == 1


def test_push_no_wait_then_resume_never_uploads_again(runner, env, tmp_path):
    src, _ = contacts(tmp_path, n=30)
    report = tmp_path / "push.json"
    keep = tmp_path / "out.csv"
    sent = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report), "-o", str(keep),
                               "--max-rows", "10", "--no-wait"])
    assert sent.exit_code == 1  # row 5 was rejected before upload
    rep = load(report)
    assert_accounted(rep)
    assert len(env.uploads) == 3 and rep["push"]["unknown"] == rep["push"]["uploaded"] == 29
    assert all(j["status"] == "CREATED" for j in rep["push"]["jobs"])
    resumed = runner.invoke(cli, ["push", "--resume", str(report), *POLL])
    assert resumed.exit_code == 1, resumed.output
    assert len(env.uploads) == 3  # nothing sent twice
    rep = load(report)
    assert_accounted(rep)
    assert rep["push"]["unknown"] == 0 and rep["push"]["failed"] == 7 and rep["push"]["accepted"] == 22
    again = runner.invoke(cli, ["push", "--resume", str(report), *POLL])
    assert again.exit_code == 1 and load(report)["push"] == rep["push"] and len(env.uploads) == 3
    assert sum(1 for i in load(report)["issues"] if i["code"] == "target.rejected") == 7  # not added twice


def test_push_timeout_then_resume(runner, env, tmp_path):
    env.running_polls = 50
    src, _ = contacts(tmp_path, n=6, invalid=())
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report),
                                 "--timeout", "0.1s", *POLL])
    job = env.uploads[0]["job"]
    assert_one_line_failure(result, f"job {job}", "still RUNNING", "--resume")
    rep = load(report)
    assert_accounted(rep)
    assert rep["push"]["unknown"] == 6
    env.running_polls = 0
    env.jobs[job].at = len(env.jobs[job].states) - 2
    resumed = runner.invoke(cli, ["push", "--resume", str(report), *POLL])
    assert resumed.exit_code == 1, resumed.output
    assert load(report)["push"]["failed"] == 2 and len(env.uploads) == 1


@pytest.mark.parametrize("outcome", ["ABORTED", "ERROR"])
def test_push_job_ending_badly_is_exit_2_with_its_id(runner, env, tmp_path, outcome):
    env.outcome = outcome
    src, _ = contacts(tmp_path, n=6, invalid=())
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--report", str(report),
                                 "--max-rows", "3", *POLL])
    job = env.uploads[0]["job"]
    err = assert_one_line_failure(result, f"job {job}", f"ended {outcome}")
    if outcome == "ABORTED":
        assert "require either 'email' or 'id'" in err
    rep = load(report)
    assert_accounted(rep)
    assert len(env.uploads) == 1 and rep["push"]["not_sent"] == 3 and rep["push"]["unknown"] == 3


def test_push_upsert_sends_the_identifier(runner, env, tmp_path):
    src, _ = contacts(tmp_path, n=4, blocked_every=0, invalid=())
    ok = runner.invoke(cli, ["push", str(src), "--object", "contact", "--mode", "upsert", *POLL])
    assert ok.exit_code == 0, ok.output
    assert env.uploads[-1]["metadata"] == {"action": "upsert", "identifierFieldName": "C_EmailAddress"}
    bad = runner.invoke(cli, ["push", str(src), "--object", "contact", "--mode", "upsert", "--id-field", "Id", *POLL])
    assert_one_line_failure(bad, "ended ERROR", "identifierFieldName Id")


def test_push_dry_run_compares_columns_and_uploads_nothing(runner, env, tmp_path):
    schema = tmp_path / "s.yaml"
    schema.write_text("object: contact\nconnector: marketing\nfields:\n  - {name: C_FirstName}\n"
                      "  - {name: ContactID}\n  - {name: Nickname}\n")
    src = tmp_path / "in.csv"
    src.write_text("C_FirstName,ContactID,Nickname\nAnn,1,A\n")
    report = tmp_path / "push.json"
    result = runner.invoke(cli, ["push", str(src), "--schema", str(schema), "--dry-run", "--report", str(report)])
    assert result.exit_code == 1, result.output
    rep = load(report)
    assert_accounted(rep)
    assert rep["push"]["dry_run"] == {"columns": ["C_FirstName", "ContactID", "Nickname"], "unknown": ["Nickname"],
                                      "read_only": ["ContactID"], "missing_required": ["C_EmailAddress"]}
    assert {i["code"] for i in rep["issues"]} == {"target.unknown_column", "target.read_only",
                                                  "target.missing_required"}
    assert not env.uploads and rep["push"]["not_sent"] == 1


def test_push_through_the_hub_connector(runner, env, tmp_path):
    src, _ = contacts(tmp_path, n=5, blocked_every=0, invalid=())
    result = runner.invoke(cli, ["push", str(src), "--connector", "hub", "--object", "contact", "--hub", "marketing",
                                 *POLL])
    assert result.exit_code == 0, result.output
    assert env.uploads[0]["header"] == "C_EmailAddress,C_FirstName,C_LastName,C_Company"


def test_push_sends_the_callback_url_and_the_hub_signs_its_call(runner, env, tmp_path):
    received: list[tuple[bytes, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Elements-Webhook-Signature"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/bulk-done"
        src, _ = contacts(tmp_path, n=4, blocked_every=0, invalid=())
        result = runner.invoke(cli, ["push", str(src), "--object", "contact", "--callback-url", url, *POLL])
        assert result.exit_code == 0, result.output
        assert env.uploads[0]["callback"] == url
        for _ in range(100):
            if received:
                break
            time.sleep(0.02)
    finally:
        hook.shutdown()
        hook.server_close()
    body, signature = received[0]
    assert json.loads(body)["status"] == "COMPLETED"
    assert csvprep.verify_signature(body, signature, CALLBACK_KEY)
    assert not csvprep.verify_signature(body + b" ", signature, CALLBACK_KEY)
    (tmp_path / "body.json").write_bytes(body)
    (tmp_path / "key").write_text(CALLBACK_KEY)
    checked = runner.invoke(cli, ["verify-signature", "--key-file", str(tmp_path / "key"), "--signature", signature,
                                  str(tmp_path / "body.json")])
    assert checked.exit_code == 0


@pytest.mark.parametrize("case", ["unreachable", "no credentials", "refused", "unknown job", "malformed json",
                                  "html page", "upload refused", "no hub", "bad duration", "no file"])
def test_push_cannot_run(runner, env, tmp_path, monkeypatch, case):
    src, _ = contacts(tmp_path, n=4, invalid=())
    report = tmp_path / "push.json"
    args = ["push", str(src), "--object", "contact", "--report", str(report), *POLL]
    if case == "unreachable":
        monkeypatch.setenv("CSVPREP_BASE_URL", f"http://127.0.0.1:{closed_port()}/elements/api-v2")
        want = ("cannot connect", "after 5 attempts")
    elif case == "no credentials":
        monkeypatch.delenv("CSVPREP_ELEMENT_TOKEN")
        want = ("CSVPREP_ELEMENT_TOKEN",)
    elif case == "refused":
        monkeypatch.setenv("CSVPREP_USER_SECRET", "not-the-secret")
        want = ("HTTP 401", "CSVPREP_USER_SECRET")
    elif case == "unknown job":
        assert runner.invoke(cli, args + ["--no-wait"]).exit_code == 0
        rep = load(report)
        rep["push"]["jobs"][0]["id"] = rep["push"]["parts"][0]["job"] = "987654"
        report.write_text(json.dumps(rep))
        args, want = ["push", "--resume", str(report), *POLL], ("no bulk job '987654'", "check the job id")
    elif case == "malformed json":
        env.fail("GET", "/status$", 200, '{"id": "1001", "status": ')
        want = ("malformed JSON",)
    elif case == "html page":
        env.fail("POST", "/bulk/contact$", 200, "<html><head><title>Login</title></head></html>",
                 content_type="text/html")
        want = ("HTML page instead of JSON",)
    elif case == "upload refused":
        env.fail("POST", "/bulk/contact$", 429, {"message": "File size exceeds the limit"})
        want = ("HTTP 429", "File size exceeds the limit", "nothing was retried")
    elif case == "no hub":
        schema = tmp_path / "s.yaml"
        schema.write_text("object: contact\nfields:\n  - {name: C_EmailAddress, type: email}\n")
        args = ["push", str(src), "--schema", str(schema), *POLL]
        want = ("--hub",)
    elif case == "bad duration":
        args += ["--timeout", "soon"]
        want = ("not a duration",)
    else:
        args, want = ["push", "--object", "contact"], ("FILE",)
    assert_one_line_failure(runner.invoke(cli, args), *want)
    if report.exists() and case not in ("unknown job",):
        assert_accounted(load(report))


def test_resume_of_something_that_is_not_a_push_report(runner, env, tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text('{"ok": true}')
    assert_one_line_failure(runner.invoke(cli, ["push", "--resume", str(bad)]), "not a push report")
    assert_one_line_failure(runner.invoke(cli, ["push", "--resume", str(tmp_path / "none.json")]), "no such report")


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_report_file_copies_the_issues_already_written(tmp_path, monkeypatch, chunk):
    import csvprep.push as pushing

    monkeypatch.setattr(pushing, "READ_CHUNK", chunk)  # chunks end inside items and inside UTF-8 characters
    monkeypatch.setattr(pushing, "READ_ROWS", 40)
    from csvprep.issues import ISSUE_SCHEMA
    from csvprep.push import PushReport, ReportFile

    issues = pl.DataFrame([{"line": i, "column": "c", "value": f"v{i}", "code": "x.y", "severity": "error",
                            "message": f'say "hi"\n, {{é}} ☃ {i}', "fixed": None} for i in range(2, 250)], schema=ISSUE_SCHEMA)
    rep = PushReport(file="in.csv", encoding="utf-8", delimiter=",", object="contact", read=248, rejected=248,
                     issues=issues, push={"hub": "marketing", "object": "contact", "jobs": [], "parts": []})
    path = tmp_path / "push.json"
    f = ReportFile(path)
    f.save(rep, slice_rows=100)
    first = json.loads(path.read_text())
    rep.push["jobs"].append({"id": "1", "part": 1, "status": "RUNNING", "records": None, "failed": None,
                             "error": None})
    f.save(rep, slice_rows=100)  # the issues come from the previous file
    assert json.loads(path.read_text())["issues"] == first["issues"]
    more = issues.head(3).with_columns(code=pl.lit("target.rejected"))
    rep.issues = pl.concat([rep.issues, more])
    f.save(rep, slice_rows=100)
    loaded = PushReport.load(path)
    assert loaded.issues.cast(ISSUE_SCHEMA).equals(rep.issues.cast(ISSUE_SCHEMA)) and loaded.push["jobs"][0]["status"] == "RUNNING"
    assert json.loads(path.read_text()) == json.loads(rep.to_json())  # the same as a full write


def test_file_view_finds_like_bytes(tmp_path):
    # the report is searched with reads in blocks (no memory map): a match across blocks is found
    import random

    from csvprep.push import FileView

    rng = random.Random(5)
    for n in range(40):
        data = bytes(rng.choice(b'ab]\n "') for _ in range(rng.randrange(0, 300)))
        p = tmp_path / f"{n}.json"
        p.write_bytes(data)
        with p.open("rb") as fh:
            view = FileView(fh)
            assert view[:] == data and view[3:9] == data[3:9]
            for sub in (b"]", b"ab", b'"a]', b"\n \""):
                for block in (1, 2, 7, 64):
                    assert view.find(sub, block) == data.find(sub)
                    assert view.rfind(sub, block) == data.rfind(sub)
