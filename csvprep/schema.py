"""Schema files: fields, keys and rules of one object, header mapping and pandera export."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import SchemaError, UnknownObjectError
from .fields import TYPES
from .issues import issue
from .rules import RULE_KEYS, RULES, check_rule_options

DEFAULT_CONNECTOR = "marketing"
FIELD_KEYS = {"name", "type", "required", "max_length", "min_length", "pattern", "choices",
              "aliases", "description"}
SCHEMA_KEYS = {"connector", "object", "description", "key", "fields", "rules", "output"}


@dataclass
class Field:
    """One target field: its type, constraints, accepted header names and type options."""

    name: str
    type: str = "text"
    required: bool = False
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    choices: list[str] | None = None
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rule:
    """A cross-field rule: a rule type from `rules.RULES` applied to named fields."""

    type: str
    fields: list[str]
    severity: str = "error"
    code: str | None = None
    message: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Schema:
    """The fields, key and rules of one object of one connector."""

    object: str
    connector: str = "custom"
    fields: list[Field] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    description: str = ""
    output: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def field(self, name: str) -> Field:
        """The field called `name`."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_pandera(self, type_checks: bool = True, unique: bool = True):
        """A pandera polars DataFrameSchema checking a frame of (normalised) text columns."""
        from .checks import pandera_schema

        return pandera_schema(self, type_checks=type_checks, unique=unique)

    def to_dict(self) -> dict[str, Any]:
        """The schema as it would be written to a YAML file."""
        out: dict[str, Any] = {"connector": self.connector, "object": self.object}
        if self.description:
            out["description"] = self.description
        if self.key:
            out["key"] = list(self.key)
        if self.output:
            out["output"] = dict(self.output)
        out["fields"] = []
        for f in self.fields:
            d: dict[str, Any] = {"name": f.name, "type": f.type}
            for k in ("required", "max_length", "min_length", "pattern", "choices", "description"):
                v = getattr(f, k)
                if v not in (None, False, "", []):
                    d[k] = v
            if f.aliases:
                d["aliases"] = list(f.aliases)
            d.update(f.options)
            out["fields"].append(d)
        if self.rules:
            out["rules"] = [{"type": r.type, "fields": r.fields, "severity": r.severity,
                             **({"code": r.code} if r.code else {}),
                             **({"message": r.message} if r.message else {}), **r.options}
                            for r in self.rules]
        return out


def schemas_dir() -> Path:
    """The built-in schema folder: inside the installed package, else the source tree's."""
    packaged = Path(str(resources.files("csvprep"))) / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def list_objects(connector: str | None = None) -> list[tuple[str, str, str]]:
    """(connector, object, description) for every built-in schema, optionally of one connector."""
    found = []
    for path in sorted(schemas_dir().glob("*/*.yaml")):
        if connector and path.parent.name != connector:
            continue
        try:
            desc = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("description", "")
        except yaml.YAMLError:
            desc = "(unreadable schema file)"
        found.append((path.parent.name, path.stem, str(desc).strip().splitlines()[0] if desc else ""))
    return found


def list_connectors() -> list[str]:
    """Names of the connectors that have built-in schemas."""
    return sorted({c for c, _, _ in list_objects()})


def load_schema(object: str | None = None, connector: str | None = None,
                path: str | Path | None = None) -> Schema:
    """Load a schema from a YAML file, or the built-in one for `connector`/`object`."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise SchemaError(f"{p}: no such schema file: check the --schema path")
        return parse_schema(_read_yaml(p), str(p))
    if not object:
        raise UnknownObjectError("no object given: use --object NAME (see `csvprep objects`)")
    connector = connector or DEFAULT_CONNECTOR
    base = schemas_dir() / connector
    if not base.is_dir():
        known = ", ".join(list_connectors())
        raise UnknownObjectError(f"unknown connector {connector!r}: known connectors are {known}")
    candidates = {p.stem: p for p in base.glob("*.yaml")}
    match = candidates.get(object) or next(
        (p for stem, p in candidates.items() if stem.lower() == object.lower()), None)
    if match is None:
        close = difflib.get_close_matches(object, list(candidates), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownObjectError(
            f"unknown object {object!r} for connector {connector!r}{hint}: "
            f"known objects are {', '.join(sorted(candidates))} (see `csvprep objects`)")
    return parse_schema(_read_yaml(match), str(match))


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SchemaLoader)  # noqa: S506 - a SafeLoader
    except UnicodeDecodeError:
        raise SchemaError(f"{path}: the schema file is not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark else ""
        raise SchemaError(f"{path}: the schema file is not valid YAML{where}: fix it or use a built-in object")


class Word(str):
    """yes/no/on/off written without quotes: a boolean in YAML 1.1, kept as written where text is
    meant (the boolean type's `true`/`false` tokens, choices, a checkbox label)."""

    def truth(self) -> bool:
        return self.lower() in ("yes", "on")


class SchemaLoader(yaml.SafeLoader):
    """YAML's safe loader, with yes/no/on/off read as `Word` (true/false stay booleans)."""


_BOOL = "tag:yaml.org,2002:bool"
SchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in found if tag != _BOOL]
    for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()}
SchemaLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
SchemaLoader.add_implicit_resolver("!word", re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$"),
                                   list("yYnNoO"))
SchemaLoader.add_constructor("!word", lambda loader, node: Word(loader.construct_scalar(node)))
TEXT_KEYS = {"name", "description", "pattern", "aliases", "choices", "true", "false", "label", "code", "message",
             "object", "connector", "type", "separator"}


def _settle(value: Any, key: Any = None) -> Any:
    """`Word`s as booleans, except under TEXT_KEYS (there: the text as written); recursively."""
    if isinstance(value, dict):
        return {(k.truth() if isinstance(k, Word) else k): _settle(v, k) for k, v in _yaml_keys(value).items()}
    if isinstance(value, list):
        return [_settle(v, key) for v in value]
    if isinstance(value, Word):
        return str(value) if key in TEXT_KEYS else value.truth()
    return value


def _text(value: Any) -> str:
    """A YAML scalar as the text it was written as (YAML 1.1 reads yes/no/on/off as booleans)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _yaml_keys(item: dict[Any, Any]) -> dict[str, Any]:
    """YAML 1.1 reads the keys `true:` and `false:` (and yes/no/on/off) as booleans: the options
    named `true` and `false` are meant."""
    return {(str(k).lower() if isinstance(k, bool) else k): v for k, v in item.items()}


def parse_schema(data: Any, source: str = "<schema>") -> Schema:
    """Build and check a Schema from parsed YAML data."""
    def fail(msg: str) -> SchemaError:
        return SchemaError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise fail("a schema file must be a mapping with `object` and `fields`")
    data = _settle(data)
    unknown = sorted(str(k) for k in data if k not in SCHEMA_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(SCHEMA_KEYS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise fail(f"unknown top-level key(s) {', '.join(map(repr, unknown))}{hint}: "
                   f"known keys are {', '.join(sorted(SCHEMA_KEYS))}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("`fields` must be a non-empty list")
    fields: list[Field] = []
    for i, item in enumerate(raw_fields, start=1):
        if not isinstance(item, dict) or not item.get("name"):
            raise fail(f"field {i} must be a mapping with a `name`")
        ftype = item.get("type", "text")
        if ftype not in TYPES:
            raise fail(f"field {item['name']!r} has unknown type {ftype!r}: use one of {', '.join(sorted(TYPES))}")
        options = {k: v for k, v in _yaml_keys(item).items() if k not in FIELD_KEYS}
        name = item["name"]
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise fail(f"field {name!r}: `required` must be true or false, not {required!r}")
        for k in ("choices", "aliases"):
            if item.get(k) is not None and not isinstance(item[k], list):
                raise fail(f"field {name!r}: `{k}` must be a list, like [A, B], not {item[k]!r}")
        if item.get("pattern") is not None and not isinstance(item["pattern"], str):
            raise fail(f"field {name!r}: `pattern` must be text")
        f = Field(
            name=str(name), type=ftype, required=required,
            max_length=item.get("max_length"), min_length=item.get("min_length"),
            pattern=item.get("pattern"),
            choices=[_text(c) for c in item["choices"]] if item.get("choices") is not None else None,
            aliases=[str(a) for a in item.get("aliases") or []],
            description=str(item.get("description") or ""), options=options,
        )
        for k in ("max_length", "min_length"):
            v = getattr(f, k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise fail(f"field {f.name!r}: `{k}` must be a whole number")
        if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
            raise fail(f"field {f.name!r}: `min_length` ({f.min_length}) is above `max_length` ({f.max_length})")
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except re.error as exc:
                raise fail(f"field {f.name!r}: `pattern` is not a valid regular expression ({exc})")
        try:
            TYPES[ftype].check_options(f)
        except ValueError as exc:
            raise fail(f"field {f.name!r}: {exc}")
        fields.append(f)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise fail(f"field {dup!r} is defined twice")
    claimed: dict[str, str] = {_norm(n): n for n in names}  # header names (as matched) -> their field
    for f in fields:
        for a in f.aliases:
            owner = claimed.setdefault(_norm(a), f.name)
            if owner != f.name:
                raise fail(f"alias {a!r} of field {f.name!r} already names field {owner!r}: "
                           "a header can feed one field only")
    key = data.get("key") or []
    key = [key] if isinstance(key, str) else list(key)
    for k in key:
        if k not in names:
            raise fail(f"key field {k!r} is not one of the fields")
    rules = []
    for item in data.get("rules") or []:
        if not isinstance(item, dict) or item.get("type") not in RULES:
            raise fail(f"rule {item!r} must have a `type` among {', '.join(sorted(RULES))}")
        rfields = list(item.get("fields") or [])
        for rf in rfields:
            if rf not in names:
                raise fail(f"rule {item['type']!r} names unknown field {rf!r}")
        severity = item.get("severity", "error")
        if severity not in ("error", "warning"):
            raise fail(f"rule {item['type']!r}: severity must be error or warning")
        extra = {k: v for k, v in _yaml_keys(item).items() if k not in RULE_KEYS}
        try:
            check_rule_options(item["type"], extra, names)
        except ValueError as exc:
            raise fail(f"rule {item['type']!r}: {exc}")
        rules.append(Rule(item["type"], rfields, severity, item.get("code"), item.get("message"), extra))
    obj = data.get("object") or Path(source).stem
    return Schema(object=str(obj), connector=str(data.get("connector", "custom")), fields=fields, key=key,
                  rules=rules, description=str(data.get("description") or ""),
                  output=dict(data.get("output") or {}), path=source)


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


@dataclass
class HeaderMap:
    """Which source column feeds which field, and what could not be matched."""

    columns: dict[str, str]  # field name -> source column
    unknown: list[str]
    missing_required: list[str]
    issues: list[dict[str, Any]]


def map_header(schema: Schema, header: list[str], line: int = 1) -> HeaderMap:
    """Match source headers to fields: exact, then loose (case/space/punctuation), then aliases."""
    columns: dict[str, str] = {}
    taken: set[str] = set()
    passes = (
        lambda f, h: h == f.name,
        lambda f, h: _norm(h) == _norm(f.name),
        lambda f, h: any(h == a or _norm(h) == _norm(a) for a in f.aliases),
    )
    for match in passes:
        for f in schema.fields:
            if f.name in columns:
                continue
            for h in header:
                if h not in taken and match(f, h):
                    columns[f.name], _ = h, taken.add(h)
                    break
    issues: list[dict[str, Any]] = []
    unknown = [h for h in header if h not in taken]
    free = [f.name for f in schema.fields if f.name not in columns]
    lookup = {_norm(n): n for n in free}
    for f in schema.fields:
        if f.name in columns:
            continue
        for a in f.aliases:
            lookup.setdefault(_norm(a), f.name)
    for h in unknown:
        close = difflib.get_close_matches(_norm(h), list(lookup), n=1, cutoff=0.75)
        again = h in columns.values() or any(_norm(h) == _norm(src) for src in columns.values())
        if again:
            msg = f"column {h!r} repeats a column already used; it is left out of the clean file"
        elif close:
            msg = (f"column {h!r} matches no field of {schema.object}; did you mean {lookup[close[0]]!r}? "
                   f"It is left out of the clean file")
        else:
            msg = f"column {h!r} matches no field of {schema.object}; it is left out of the clean file"
        issues.append(issue(line, h, None, "header.unknown", "warning", msg))
    missing = [f.name for f in schema.fields if f.required and f.name not in columns]
    for name in missing:
        f = schema.field(name)
        also = f" (also accepted: {', '.join(f.aliases)})" if f.aliases else ""
        issues.append(issue(line, name, None, "header.missing_required", "error",
                            f"required column {name!r} is missing{also}: no row can be loaded without it"))
    return HeaderMap(columns, unknown, missing, issues)
