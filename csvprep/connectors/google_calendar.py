"""Google Calendar: the Calendar API v3 event resource written by `--format jsonl`."""
from __future__ import annotations

from typing import Any


def event_resource(row: dict[str, Any]) -> dict[str, Any]:
    """A Calendar API v3 event resource from one clean row."""
    event: dict[str, Any] = {k: row[k] for k in ("id", "summary", "description", "location") if row.get(k)}
    zone = row.get("time_zone")
    for end in ("start", "end"):
        value = row.get(end)
        if value is None:
            continue
        if len(value) == 10:
            event[end] = {"date": value}
        else:
            event[end] = {"dateTime": value, **({"timeZone": zone} if zone else {})}
    if row.get("attendees"):
        event["attendees"] = [{"email": e} for e in row["attendees"].split(";") if e]
    if row.get("recurrence"):
        event["recurrence"] = row["recurrence"].split("\n")
    return event
