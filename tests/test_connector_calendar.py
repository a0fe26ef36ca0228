"""Google Calendar events: date/date-time kinds, time zones, attendee lists, rules and JSON Lines."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import csvprep
from csvprep.cli import cli

from conftest import SAMPLE, write

HEAD = "summary,start,end,time_zone,all_day,attendees,recurrence\n"


def run(tmp_path, body: str):
    return csvprep.clean(write(tmp_path, "ev.csv", HEAD + body), "events", connector="google-calendar")


def test_sample_events_report() -> None:
    report = csvprep.check(SAMPLE / "google-calendar-events.csv", "events", connector="google-calendar")
    rows = report.as_rows()
    assert [4, "End", "event.time_range_empty"] in rows
    assert [5, "Start", "event.time_zone_required"] in rows and [5, "End", "event.time_zone_required"] in rows
    assert [6, "Guests", "email_list.invalid"] in rows and [6, "End", "event.kind_mismatch"] in rows
    assert [7, "Time Zone", "timezone.invalid"] in rows and [7, "Repeat", "recurrence.invalid"] in rows
    assert [8, "Repeat", "event.time_zone_required"] in rows
    assert [9, "End", "event.time_range_empty"] in rows
    assert (report.clean, report.rejected) == (2, 6)


def test_local_times_get_the_zone_offset_including_dst(tmp_path) -> None:
    r = run(tmp_path, "Winter,2024-01-10 09:00,2024-01-10 10:00,Europe/Zurich,,,\n"
                      "Summer,07/01/2024 09:00,07/01/2024 10:00,america/new_york,,,\n")
    assert r.clean["start"].to_list() == ["2024-01-10T09:00:00+01:00", "2024-07-01T09:00:00-04:00"]
    assert r.clean["time_zone"].to_list() == ["Europe/Zurich", "America/New_York"]


def test_offsets_compare_in_utc_and_equal_times_are_empty(tmp_path) -> None:
    r = run(tmp_path, "Ok,2024-05-01T10:00:00+02:00,2024-05-01T08:30:00Z,,,,\n"
                      "Empty,2024-05-01T10:00:00+02:00,2024-05-01T08:00:00Z,,,,\n")
    assert r.clean["summary"].to_list() == ["Ok"]
    assert r.report.as_rows() == [[3, "end", "event.time_range_empty"]]


def test_daylight_saving_gap_is_an_error(tmp_path) -> None:
    r = run(tmp_path, "Gap,2024-03-31 02:30,2024-03-31 04:00,Europe/Zurich,,,\n")
    assert r.report.as_rows() == [[2, "start", "event.time_zone_required"]]
    assert "daylight-saving" in r.report.issues["message"][0]


def test_all_day_flag_must_match_the_values(tmp_path) -> None:
    r = run(tmp_path, "A,2024-05-01,2024-05-02,,yes,,\nB,2024-05-01T10:00:00Z,2024-05-01T11:00:00Z,,true,,\n")
    assert r.clean["summary"].to_list() == ["A"]
    assert r.report.as_rows() == [[3, "all_day", "event.kind_mismatch"]]


def test_attendees_checked_one_by_one(tmp_path) -> None:
    r = run(tmp_path, 'A,2024-05-01,2024-05-02,,,"Ann@X.com, bob@y.org\ncarol@z.net",\n'
                      "B,2024-05-01,2024-05-02,,,ann@x.com;not-an-email;bob@y.org,\n")
    assert r.clean["attendees"].to_list() == ["ann@x.com;bob@y.org;carol@z.net"]
    issue = r.report.issues.row(0, named=True)
    assert (issue["code"], issue["line"]) == ("email_list.invalid", 4) and "not-an-email" in issue["message"]
    assert "ann@x.com" not in issue["message"]


def test_jsonl_is_one_event_resource_per_line(tmp_path) -> None:
    out = tmp_path / "events.jsonl"
    r = CliRunner().invoke(cli, ["clean", str(SAMPLE / "google-calendar-events.csv"), "-c", "google-calendar",
                                 "-O", "events", "-o", str(out), "--format", "jsonl", "-q"])
    assert r.exit_code == 1, r.output
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events == [
        {"summary": "Team sync", "location": "Room 1",
         "start": {"dateTime": "2024-05-06T10:00:00+02:00", "timeZone": "Europe/Zurich"},
         "end": {"dateTime": "2024-05-06T10:30:00+02:00", "timeZone": "Europe/Zurich"},
         "attendees": [{"email": "ann@example.com"}, {"email": "bob@example.org"}],
         "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"]},
        {"summary": "Offsite", "location": "Lake house", "start": {"date": "2024-06-03"},
         "end": {"date": "2024-06-05"}},
    ]


@pytest.mark.parametrize("value", ["RRULE:FREQ=DAILY;COUNT=5", "rrule:FREQ=DAILY EXDATE:20240502T100000Z"])
def test_recurrence_lines(tmp_path, value: str) -> None:
    r = run(tmp_path, f"A,2024-05-01T10:00:00,2024-05-01T11:00:00,UTC,,,{value}\n")
    assert r.report.errors == 0
    assert r.clean["recurrence"][0].split("\n")[0].startswith("RRULE:FREQ=DAILY")
    assert r.clean["start"][0] == "2024-05-01T10:00:00+00:00"


def test_jsonl_refuses_csv_only_options(tmp_path) -> None:
    r = CliRunner().invoke(cli, ["clean", str(SAMPLE / "google-calendar-events.csv"), "-c", "google-calendar",
                                 "-O", "events", "-o", str(tmp_path / "e.jsonl"), "--format", "jsonl",
                                 "--max-rows", "5"])
    assert r.exit_code == 2 and "CSV output only" in r.output
    assert not list(tmp_path.iterdir())


def test_list_cells_keep_every_character_of_their_items():
    import polars as pl

    from csvprep.fields import TYPES
    from csvprep.options import Options
    from csvprep.schema import Field

    s = pl.Series(["\x00", "RRULE:FREQ=DAILY", "a@x.com;\x00"])
    rec = TYPES["recurrence"].normalise(s, Field(name="r", type="recurrence"), Options())
    assert [f.mask.to_list() for f in rec.flags if f.code == "recurrence.invalid"] == [[True, False, True]]
    emails = TYPES["email_list"].normalise(s, Field(name="e", type="email_list"), Options())
    assert [f.mask.to_list() for f in emails.flags if f.code == "email_list.invalid"] == [[True, True, True]]
