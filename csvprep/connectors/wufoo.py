"""Wufoo: a csvprep schema from a form's fields definition (the Fields API response)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ConnectorError
from ..schema import Field, Schema

ENTRY_ID = re.compile(r"^Field\d+$")
TIME_PATTERN = r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"
SIMPLE = {
    "text": ("text", {}), "textarea": ("text", {"collapse_spaces": False}), "number": ("decimal", {}),
    "money": ("decimal", {}), "email": ("email", {}), "url": ("url", {}),
    "phone": ("phone", {"region": "US", "format": "E164"}), "date": ("date", {"format": "%Y%m%d"}),
    "rating": ("integer", {"min": 0, "max": 10}),
}
DAILY_REQUESTS = 5000  # Wufoo API: 5000 requests per API key per day, one entry per request


def _required(item: dict[str, Any]) -> bool:
    return str(item.get("IsRequired", "0")) == "1"


def _labels(item: dict[str, Any]) -> list[str]:
    return [str(c.get("Label", "")) for c in item.get("Choices") or [] if str(c.get("Label", "")).strip()]


def fields_for(item: dict[str, Any]) -> list[Field]:
    """The csvprep fields of one Wufoo field (one per SubField for checkbox, name, address, likert)."""
    ftype, title, required = str(item.get("Type", "text")), str(item.get("Title", "")), _required(item)
    subs = [s for s in item.get("SubFields") or [] if ENTRY_ID.match(str(s.get("ID", "")))]
    if ftype == "file":
        return []  # uploads cannot be sent with the entries API
    if subs:
        out = []
        for s in subs:
            label = str(s.get("Label", ""))
            f = Field(name=str(s["ID"]), aliases=[f"{title} {label}", f"{title} - {label}", f"{title} ({label})"],
                      description=f"{ftype}: {title} / {label}")
            if ftype == "checkbox":  # a checked box carries its label, an unchecked one is blank
                f.type, f.options = "checkbox", {"label": label}
            elif ftype == "likert":
                f.type, f.choices, f.required = "enum", _labels(item), required
            else:
                f.aliases.append(label)
                if ftype == "shortname":
                    f.required = required and label.lower() in ("first", "last")
                elif ftype == "address":
                    f.required = required and "line 2" not in label.lower()
            out.append(f)
        return out
    f = Field(name=str(item["ID"]), aliases=[title] if title else [], required=required,
              description=f"{ftype}: {title}")
    if ftype in ("radio", "select") and _labels(item) and not item.get("HasOtherField"):
        f.type, f.choices = "enum", _labels(item)
    elif ftype == "time":
        f.pattern = TIME_PATTERN
    elif ftype in SIMPLE:
        f.type, f.options = SIMPLE[ftype][0], dict(SIMPLE[ftype][1])
    return [f]


def form_schema(path: str | Path, object: str | None = None) -> Schema:
    """Read a Wufoo fields JSON file (GET /forms/ID/fields.json) and make a schema for its entries."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConnectorError(f"{p}: no such file: save the form's fields.json there first")
    except (UnicodeDecodeError, IsADirectoryError):
        raise ConnectorError(f"{p}: not a JSON text file: give the Wufoo fields.json response")
    except json.JSONDecodeError as exc:
        raise ConnectorError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    items = data.get("Fields") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConnectorError(f"{p}: no `Fields` list: give the Wufoo fields API response (GET /forms/ID/fields.json)")
    fields: list[Field] = []
    for item in items:
        if isinstance(item, dict) and ENTRY_ID.match(str(item.get("ID", ""))) and not item.get("IsSystem"):
            fields.extend(fields_for(item))
    if not fields:
        raise ConnectorError(f"{p}: the form has no Field{{N}} fields to fill (only system fields)")
    seen: set[str] = set()
    fields = [f for f in fields if not (f.name in seen or seen.add(f.name))]
    return Schema(object=object or p.stem, connector="wufoo", fields=fields,
                  description=f"Wufoo form entries from {p.name}: headers are the Field{{N}} API ids",
                  output={"delimiter": ",", "line_ending": "LF", "max_rows": DAILY_REQUESTS})
