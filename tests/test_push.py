"""The bulk API: client, signatures, hub commands and push, against the emulator on 127.0.0.1."""
from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli
from csvprep.connectors import hub
from csvprep.connectors.hub import BulkClient, JobStatus, schema_from_hub
from csvprep.errors import HubCredentialsError, HubError, HubResponseError

sys.path.insert(0, str(Path(__file__).parent))
from bulk_emulator import ELEMENT, USER, Emulator  # noqa: E402

AUTH = f"User {USER}, Element {ELEMENT}"
SECRETS = (USER, ELEMENT, "org-secret-9999")


@pytest.fixture
def emu():
    e = Emulator().start()
    yield e
    e.stop()


@pytest.fixture
def env(emu, monkeypatch):
    """Credentials and base URL in the environment, as the CLI reads them; short retry waits."""
    monkeypatch.setattr(hub, "BACKOFF", 0.01)
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
