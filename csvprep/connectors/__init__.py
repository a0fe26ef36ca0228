"""Connectors: the code of targets that need more than a YAML schema, and their registry.

Built-in objects are YAML files under `schemas/<connector>/` (data, read by `schema.py`). A
connector whose objects exist only at run time (a PostgreSQL table, a Wufoo form) registers a
resolver here with `@dynamic`, so that `csvprep.check(..., connector="postgres", object=TABLE)`
works in the library as on the command line; JSON Lines shapes are registered in `SHAPES`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from . import google_calendar

if TYPE_CHECKING:
    from ..schema import Schema

Shape = Callable[[dict[str, Any]], dict[str, Any]]
SHAPES: dict[str, Shape] = {"calendar_event": google_calendar.event_resource}


def shape_for(name: str) -> Shape:
    """The JSON Lines shape registered under `name` (a schema's `output: {jsonl: NAME}`)."""
    try:
        return SHAPES[name]
    except KeyError:
        raise OutputError(f"unknown JSON Lines shape {name!r}: known shapes are {', '.join(sorted(SHAPES))}")


@dataclass(frozen=True)
class Dynamic:
    """A connector whose schema is built at run time from `object` and connector options."""

    name: str
    label: str  # what OBJECT names, e.g. TABLE
    description: str
    resolve: Callable[[str | None, dict[str, Any]], Schema]
    options: tuple[str, ...] = ()  # the connector options it reads (one of them makes it dynamic)
    always: bool = False  # True: the connector has no built-in objects at all


DYNAMIC: dict[str, Dynamic] = {}


def dynamic(name: str, label: str, description: str, options: tuple[str, ...] = (), always: bool = False
            ) -> Callable[[Callable[[str | None, dict[str, Any]], Schema]], Callable[[str | None, dict[str, Any]], Schema]]:
    """Register a run-time schema resolver for connector `name`."""
    def deco(fn: Callable[[str | None, dict[str, Any]], Schema]) -> Callable[[str | None, dict[str, Any]], Schema]:
        DYNAMIC[name] = Dynamic(name, label, description, fn, options, always)
        return fn
    return deco


def resolve(connector: str | None, object: str | None, options: dict[str, Any] | None) -> Schema | None:
    """The run-time schema of `connector`/`object`, or None when the connector's built-in YAML
    schemas apply."""
    given = {k: v for k, v in (options or {}).items() if v is not None}
    entry = DYNAMIC.get(connector or "")
    if entry is None:
        if connector is None:  # options of a dynamic connector without --connector: that connector
            entry = next((d for d in DYNAMIC.values() if d.always and any(k in given for k in d.options)), None)
        if entry is None:
            return None
    if not entry.always and not any(k in given for k in entry.options):
        return None
    return entry.resolve(object, given)


def dynamic_objects(connector: str | None = None) -> list[tuple[str, str, str]]:
    """(connector, label, description) of the connectors with run-time objects."""
    return [(d.name, d.label, d.description) for d in DYNAMIC.values() if connector in (None, d.name)]


@dynamic("postgres", "TABLE", "any table: --dsn DSN --table TABLE, or `csvprep schema from-postgres`",
         options=("dsn", "table"), always=True)
def _postgres(object: str | None, options: dict[str, Any]) -> Schema:
    from .postgres import table_schema

    return table_schema(options.get("dsn"), options.get("table") or object)


@dynamic("wufoo", "FORM", "any form: `csvprep schema from-wufoo FIELDS.json -o form.yaml`, then --schema form.yaml",
         options=("fields",))
def _wufoo(object: str | None, options: dict[str, Any]) -> Schema:
    from .wufoo import form_schema

    return form_schema(options["fields"], object)


@dynamic("hub", "OBJECT", "any object of a bulk API hub: --connector hub --object OBJECT --hub HUB",
         options=("hub",))
def _hub(object: str | None, options: dict[str, Any]) -> Schema:
    from .hub import hub_schema

    return hub_schema(object, options.get("hub"), options.get("base_url"))
