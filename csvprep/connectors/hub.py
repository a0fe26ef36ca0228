"""The bulk API (Cloud Elements / SAP Open Connectors hubs): a client, job statuses and schemas from metadata."""
from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import tenacity

from ..errors import HubCredentialsError, HubError, HubResponseError
from ..schema import Field, Schema

DEFAULT_BASE_URL = "https://api.cloud-elements.com/elements/api-v2"
ENV_BASE_URL = "CSVPREP_BASE_URL"
ENV_USER, ENV_ELEMENT, ENV_ORG = "CSVPREP_USER_SECRET", "CSVPREP_ELEMENT_TOKEN", "CSVPREP_ORG_SECRET"
CALLBACK_HEADER = "Elements-Async-Callback-Url"
NEXT_PAGE_HEADER = "Elements-Next-Page-Token"
SIGNATURE_HEADER = "Elements-Webhook-Signature"

ATTEMPTS = 5  # tries per request (connection errors, 5xx, 429)
BACKOFF = 1.0  # seconds before the second try; doubled each time, with jitter, at most max_wait
GOING = frozenset({"CREATED", "STARTED", "RUNNING", "CANCELLATION_PENDING"})
SUCCEEDED = frozenset({"COMPLETED", "COMPLETE"})
FAILED = frozenset({"ERROR", "ABORTED", "CANCELLED", "CANCELED"})


def credentials(env: Mapping[str, str] | None = None) -> str:
    """The `Authorization` header value from the environment: `User u, Element e[, Organization o]`."""
    env = os.environ if env is None else env
    user, element, org = (env.get(k, "").strip() for k in (ENV_USER, ENV_ELEMENT, ENV_ORG))
    missing = [k for k, v in ((ENV_USER, user), (ENV_ELEMENT, element)) if not v]
    if missing:
        raise HubCredentialsError(f"no bulk API credentials: set {' and '.join(missing)} in the environment "
                                  "(the user secret and the element instance token)")
    return f"User {user}, Element {element}" + (f", Organization {org}" if org else "")


def base_url(given: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """`given`, else CSVPREP_BASE_URL, else the Cloud Elements API v2 URL."""
    env = os.environ if env is None else env
    url = (given or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HubError(f"base URL {redact_url(url)!r} is not an http(s) URL: give e.g. --base-url {DEFAULT_BASE_URL}")
    return url


def redact_url(url: str) -> str:
    """`url` without a user name or password in it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _count(value: Any) -> int | None:
    try:
        return int(value) if value is not None and str(value).strip() != "" else None
    except (TypeError, ValueError):
        return None


@dataclass
class JobStatus:
    """A bulk job's status, whichever shape the API answered with (`status`/`jobStatus`, ...)."""

    id: str
    status: str
    records: int | None = None
    failed: int | None = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: Any, job: str | None = None) -> JobStatus:
        """Read both the bulk v2 (`status`, `recordsCount`, `recordsFailedCount`) and the bulk v3
        (`jobStatus`, `recordCount`, `errorCount`) shapes."""
        if not isinstance(data, dict):
            raise HubResponseError(f"the job status of {job or 'the upload'} is not a JSON object: "
                                   "check --base-url points at the bulk API")
        status = data.get("status") if data.get("status") is not None else data.get("jobStatus")
        ident = data.get("id") if data.get("id") is not None else job
        if status is None or ident is None:
            raise HubResponseError(f"the job status of {job or 'the upload'} has no "
                                   f"{'status' if status is None else 'id'}: check --base-url points at the bulk API")
        first = next((data[k] for k in ("recordsCount", "recordCount") if data.get(k) is not None), None)
        failed = next((data[k] for k in ("recordsFailedCount", "errorCount") if data.get(k) is not None), None)
        error = next((str(data[k]) for k in ("error", "statusMessage") if data.get(k)), None)
        return cls(str(ident), str(status).strip().upper(), _count(first), _count(failed), error, data)

    @property
    def done(self) -> bool:
        """True when the job will not change any more (an unknown status counts as ended)."""
        return self.status not in GOING

    @property
    def ok(self) -> bool:
        """True only for COMPLETED / COMPLETE: an unknown status is not success."""
        return self.status in SUCCEEDED


class _Retry(Exception):
    """A GET answered 5xx or 429: worth another try."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _retry_after(exc: BaseException | None) -> float | None:
    if isinstance(exc, _Retry):
        value = exc.response.headers.get("Retry-After", "").strip()
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                import datetime as dt
                from email.utils import parsedate_to_datetime
                try:
                    when = parsedate_to_datetime(value)
                    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
                except (TypeError, ValueError):
                    return None
    return None


class _Wait(tenacity.wait.wait_base):
    """Exponential backoff with full jitter, or the server's `Retry-After` (capped) when it sends one."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial, self.maximum = initial, maximum

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = _retry_after(exc)
        if after is not None:
            return min(after, self.maximum)
        return random.uniform(0, min(self.maximum, self.initial * 2 ** (retry_state.attempt_number - 1)))


class BulkClient:
    """A client for one hub's bulk API: discovery, metadata, upload, status, errors and cancel.

    Credentials come from the environment (see `credentials`) unless `auth` is given; `transport`
    replaces the network (tests). GETs are retried on connection errors, 5xx and 429 (honouring
    `Retry-After`); an upload only when it provably never reached the server (connect failure).
    """

    def __init__(self, hub: str, url: str | None = None, *, auth: str | None = None, timeout: float = 30.0,
                 upload_timeout: float = 3600.0, attempts: int | None = None, backoff: float | None = None,
                 max_wait: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not hub or "/" in hub:
            raise HubError(f"hub name {hub!r} is not usable: give --hub NAME (e.g. marketing, helpdesk, db)")
        self.hub = hub
        self.base_url = base_url(url)
        self._auth = auth if auth is not None else credentials()
        self.upload_timeout = upload_timeout
        attempts = ATTEMPTS if attempts is None else attempts
        self._retrying = dict(stop=tenacity.stop_after_attempt(max(1, attempts)),
                              wait=_Wait(BACKOFF if backoff is None else backoff, max_wait),
                              reraise=True)
        self.http = httpx.Client(base_url=self.base_url + "/",
                                 timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                 headers={"Authorization": self._auth, "Accept": "application/json"},
                                 transport=transport, follow_redirects=False)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def __enter__(self) -> BulkClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _path(self, *parts: str) -> str:
        return "hubs/" + "/".join(quote(str(p), safe="") for p in (self.hub, *parts))

    def _scrub(self, text: str) -> str:
        """`text` without any of the secrets in it (vendor messages may echo a header)."""
        for secret in re.split(r",\s*", self._auth):
            value = secret.split(" ", 1)[-1].strip()
            if len(value) >= 4:
                text = text.replace(value, "***")
        return text

    def _where(self, method: str, path: str) -> str:
        return f"{method} {redact_url(self.base_url)}/{path}"

    def _fail_transport(self, exc: httpx.HTTPError, method: str, path: str) -> HubError:
        kind = "cannot connect to" if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) else "no answer from"
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            kind = "timed out waiting for"
        reason = self._scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        tries = self._retrying["stop"].max_attempt_number if method != "POST" or kind == "cannot connect to" else 1
        after = f" after {tries} attempts" if tries > 1 else ""
        return HubError(f"{kind} the bulk API{after} ({self._where(method, path)}: {reason}): check --base-url / "
                        f"{ENV_BASE_URL} and the network")

    def _fail_status(self, response: httpx.Response, method: str, path: str, job: str | None = None) -> HubError:
        code = response.status_code
        vendor = self._vendor_message(response)
        said = f": {vendor}" if vendor else ""
        where = self._where(method, path)
        if code in (401, 403):
            return HubCredentialsError(f"the bulk API refused the credentials (HTTP {code} on {where}){said}: check "
                                       f"{ENV_USER}, {ENV_ELEMENT} (and {ENV_ORG}) for hub {self.hub!r}")
        if code == 404 and job is not None:
            return HubError(f"no bulk job {job!r} on hub {self.hub!r} (HTTP 404 on {where}){said}: check the job id")
        if code == 404:
            return HubError(f"not found (HTTP 404 on {where}){said}: check the hub, the object and --base-url")
        if code == 429 and method == "POST":
            return HubError(f"the bulk API refused the upload (HTTP 429 on {where}){said}: the file may be over the "
                            "size or time limit, or the rate limit was hit; nothing was retried (a second upload "
                            "could load the rows twice): try smaller parts (--max-rows/--max-bytes) later")
        return HubError(f"the bulk API answered HTTP {code} on {where}{said}")

    def _vendor_message(self, response: httpx.Response) -> str:
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict):
            msg = data.get("message") or data.get("error") or data.get("status")
            if msg:
                return self._scrub(" ".join(str(msg).split())[:300]).rstrip(". ")
        return ""

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
            if "html" in kind or response.content[:200].lstrip()[:1] == b"<":
                what = "an HTML page instead of JSON"
            elif "json" in kind:
                what = "malformed JSON"
            else:
                what = f"{kind} text instead of JSON"
            raise HubResponseError(f"the bulk API answered {what} (HTTP {response.status_code} on "
                                   f"{self._where(method, path)}): check --base-url / {ENV_BASE_URL}")

    def _request(self, method: str, path: str, job: str | None = None,
                 **kwargs: Any) -> httpx.Response:
        """A GET/PUT with retries on connection errors, 5xx and 429; other failures raise HubError."""
        def once() -> httpx.Response:
            response = self.http.request(method, path, **kwargs)
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retry(response)
            return response

        retry_on = tenacity.retry_if_exception_type((httpx.TransportError, _Retry))
        try:
            response = tenacity.Retrying(retry=retry_on, **self._retrying)(once)
        except _Retry as exc:
            raise self._fail_status(exc.response, method, path, job) from None
        except httpx.HTTPError as exc:
            raise self._fail_transport(exc, method, path) from None
        if response.status_code >= 300:
            raise self._fail_status(response, method, path, job)
        return response

    def _get_json(self, path: str, job: str | None = None, **kwargs: Any) -> tuple[Any, httpx.Response]:
        response = self._request("GET", path, job, **kwargs)
        return self._json(response, "GET", path), response

    # -- the API ------------------------------------------------------------------------------

    def objects(self) -> list[str]:
        """The object names the hub offers (`GET /hubs/{hub}/objects`)."""
        path = self._path("objects")
        data, _ = self._get_json(path)
        if isinstance(data, dict):  # some elements wrap lists
            data = next((v for v in data.values() if isinstance(v, list)), data)
        if not isinstance(data, list):
            raise HubResponseError(f"the object list of hub {self.hub!r} is not a JSON array "
                                   f"({self._where('GET', path)}): check --base-url and --hub")
        return [str(x.get("name", x)) if isinstance(x, dict) else str(x) for x in data]

    def metadata(self, object: str) -> dict[str, Any]:
        """An object's field metadata (`GET /hubs/{hub}/objects/{object}/metadata`)."""
        path = self._path("objects", object, "metadata")
        data, _ = self._get_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list):
            raise HubResponseError(f"the metadata of {self.hub}/{object} has no `fields` list "
                                   f"({self._where('GET', path)}): check the object name (`csvprep hub objects`)")
        return data

    def upload(self, object: str, file: str | os.PathLike, metadata: dict[str, Any] | None = None,
               callback_url: str | None = None, content_type: str = "text/csv") -> JobStatus:
        """Upload `file` (streamed from disk) as one bulk job; returns its id and first status.

        Retried only on a connect failure: anything else may have reached the server, and a second
        POST could load the rows twice.
        """
        path = self._path("bulk", object)
        src = Path(file)
        headers = {CALLBACK_HEADER: callback_url} if callback_url else {}
        data = {"metaData": json.dumps(metadata or {})}

        def once() -> httpx.Response:
            with src.open("rb") as fh:
                return self.http.post(path, data=data, files={"file": (src.name, fh, content_type)},
                                      headers=headers, timeout=httpx.Timeout(self.upload_timeout, connect=10.0))

        retry_on = tenacity.retry_if_exception_type((httpx.ConnectError, httpx.ConnectTimeout))
        try:
            response = tenacity.Retrying(retry=retry_on, **self._retrying)(once)
        except OSError as exc:
            raise HubError(f"{src}: cannot read the file to upload ({exc.strerror})") from None
        except httpx.HTTPError as exc:
            err = self._fail_transport(exc, "POST", path)
            if not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                err = HubError(f"{err}; the upload may have reached the server: look for a new job before "
                               "pushing again")
            raise err from None
        if response.status_code >= 300:
            raise self._fail_status(response, "POST", path)
        return JobStatus.parse(self._json(response, "POST", path))

    def status(self, job: str) -> JobStatus:
        """A job's status (`GET /hubs/{hub}/bulk/{job}/status`), either shape."""
        data, _ = self._get_json(self._path("bulk", job, "status"), job)
        return JobStatus.parse(data, job)

    def errors(self, job: str, page_size: int = 200) -> Iterator[dict[str, Any]]:
        """Every error item of a job, page after page (`nextPage` from `Elements-Next-Page-Token`)."""
        path = self._path("bulk", job, "errors")
        token: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"pageSize": page_size}
            if token:
                params["nextPage"] = token
            data, response = self._get_json(path, job, params=params)
            if isinstance(data, dict):
                data = next((data[k] for k in ("errors", "items", "records", "data") if isinstance(data.get(k), list)),
                            None)
            if not isinstance(data, list):
                raise HubResponseError(f"the errors of job {job} are not a JSON array ({self._where('GET', path)})")
            for item in data:
                yield item if isinstance(item, dict) else {"status": str(item)}
            token = response.headers.get(NEXT_PAGE_HEADER, "").strip() or None
            if not token or token in seen or not data:
                return
            seen.add(token)

    def cancel(self, job: str) -> None:
        """Ask the API to cancel a job (`PUT /hubs/{hub}/bulk/{job}/cancel`)."""
        self._request("PUT", self._path("bulk", job, "cancel"), job)


# -- schemas from metadata --------------------------------------------------------------------

TYPE_MAP = {"string": "text", "text": "text", "number": "decimal", "double": "decimal", "decimal": "decimal",
            "float": "decimal", "currency": "decimal", "integer": "integer", "int": "integer", "long": "integer",
            "boolean": "boolean", "bool": "boolean", "date": "date", "datetime": "datetime", "date-time": "datetime",
            "email": "email", "phone": "phone", "url": "url"}
INFERRED = [("email", re.compile(r"e-?mail", re.I)), ("phone", re.compile(r"phone|mobile|fax|cell", re.I)),
            ("url", re.compile(r"url|website|web_?site|homepage", re.I))]


def flag(value: Any) -> bool | None:
    """A metadata boolean, which some elements send as a string ('true', 'false')."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return True if text in ("true", "1", "yes") else False if text in ("false", "0", "no") else None


@dataclass
class HubSchema:
    """A schema made from hub metadata, with what was left out or guessed (written as YAML comments)."""

    schema: Schema
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (field, why)
    inferred: list[tuple[str, str]] = field(default_factory=list)  # (field, type)

    def to_yaml(self) -> str:
        """The schema as YAML, with comments on the fields left out and the types inferred."""
        import yaml

        lines = [f"# schema of {self.schema.object} from GET /hubs/{{hub}}/objects/{self.schema.object}/metadata"]
        lines += [f"# left out: {name} ({why})" for name, why in self.left_out]
        lines += [f"# inferred from the name: {name} -> {kind} (check it)" for name, kind in self.inferred]
        return "\n".join(lines) + "\n" + yaml.safe_dump(self.schema.to_dict(), sort_keys=False, allow_unicode=True,
                                                       width=120)


def schema_from_hub(metadata: dict[str, Any], object: str, hub: str | None = None) -> HubSchema:
    """A csvprep schema from an object's hub metadata: `vendorPath` names the field, `vendorDisplayName`
    is an alias, `vendorRequired` makes it required; read-only (`vendorReadOnly`, `createable: false`)
    and hidden fields are left out. Email, phone and url types guessed from names are reported."""
    items = metadata.get("fields") if isinstance(metadata, dict) else None
    if not isinstance(items, list):
        raise HubResponseError(f"the metadata of {object} has no `fields` list")
    out = HubSchema(Schema(object=object, connector="hub", description=f"{hub or 'hub'}/{object} from the "
                           "bulk API metadata", output={"delimiter": ",", "line_ending": "LF"}))
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        name = str(item.get("vendorPath") or item.get("path") or item.get("name") or "").strip()
        if not name or name in seen:
            continue
        if flag(item.get("vendorReadOnly")) or flag(item.get("createable")) is False:
            out.left_out.append((name, "read-only"))
            continue
        if flag(item.get("hidden")):
            out.left_out.append((name, "hidden"))
            continue
        seen.add(name)
        declared = str(item.get("type") or "string").strip().lower()
        ftype = TYPE_MAP.get(declared, "text")
        if ftype == "text":
            guess = next((kind for kind, pattern in INFERRED if pattern.search(name)), None)
            if guess:
                ftype = guess
                out.inferred.append((name, guess))
        display = str(item.get("vendorDisplayName") or "").strip()
        native = str(item.get("vendorNativeType") or "").strip()
        f = Field(name=name, type=ftype, required=bool(flag(item.get("vendorRequired"))),
                  aliases=[display] if display and display != name else [],
                  description=(f"{declared}" + (f" ({native})" if native else ""))
                  + (f"; {ftype} inferred from the name" if (name, ftype) in out.inferred else ""))
        if ftype == "phone":
            f.options = {"format": "E164"}
        out.schema.fields.append(f)
    if not out.schema.fields:
        raise HubError(f"the metadata of {object} has no field a bulk upload can fill (all read-only or hidden)")
    return out


def hub_of(connector: str | None) -> str | None:
    """The hub a connector's objects live on (`hub:` in `schemas/<connector>/_connector.yml`)."""
    import yaml

    from ..schema import schemas_dir

    if not connector:
        return None
    path = schemas_dir() / connector / "_connector.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    hub = data.get("hub") if isinstance(data, dict) else None
    return str(hub) if hub else None


def resolve_hub(hub: str | None = None, connector: str | None = None) -> str:
    """`hub`, else the connector's `hub:` (default connector: marketing)."""
    from ..schema import DEFAULT_CONNECTOR

    found = hub or hub_of(connector or DEFAULT_CONNECTOR)
    if not found:
        raise HubError(f"no hub known for connector {connector!r}: give --hub NAME (e.g. marketing, helpdesk, db)")
    return found


def client(hub: str | None = None, connector: str | None = None, url: str | None = None, **kwargs: Any) -> BulkClient:
    """A BulkClient for `hub` (or the connector's), credentials from the environment."""
    return BulkClient(resolve_hub(hub, connector), url, **kwargs)


def hub_schema(object: str | None, hub: str | None = None, url: str | None = None, **kwargs: Any) -> Schema:
    """`--connector hub --object O --hub H`: the schema of O read from the hub's metadata."""
    if not object or not hub:
        raise HubError("the hub connector needs --object OBJECT and --hub HUB (its schema is read from "
                       "GET /hubs/{hub}/objects/{object}/metadata)")
    with BulkClient(hub, url, **kwargs) as c:
        return schema_from_hub(c.metadata(object), object, hub).schema
