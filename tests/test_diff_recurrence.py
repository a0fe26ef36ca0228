"""Differential test: recurrence lines against python-dateutil's rrulestr; time zone names against tzdata."""
from __future__ import annotations

import datetime as dt
import re
import warnings
from importlib import resources

from dateutil.rrule import rrulestr
from diffkit import BATCH, diff_settings, errors, run_type
from hypothesis import given
from hypothesis import strategies as st

ZONES = [z for z in resources.files("tzdata").joinpath("zones").read_text().split() if z != "Factory"]


def ref_line_ok(line: str) -> bool:
    """README: RRULE/EXRULE/RDATE/EXDATE lines that rrulestr reads with a floating or a UTC start;
    a TZID names a tzdata zone."""
    if not re.match(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]\S+$", line):
        return False
    zones = re.findall(r";TZID=([^;:]+)", line, re.I)
    if any(z not in ZONES for z in zones):
        return False
    text = re.sub(r";TZID=[^;:]+", "", line, flags=re.I)
    for start in (dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rrulestr(text, dtstart=start, forceset=True)
            return True
        except Exception:  # noqa: BLE001 - any refusal
            pass
    return False


def ref_recurrence(cell: str | None) -> bool:
    lines = [x for x in re.split(r"\s+", cell or "") if x]
    lines = [re.sub(r"^[A-Za-z]*", lambda m: m[0].upper(), x) for x in lines]
    return bool(lines) and not all(ref_line_ok(x) for x in lines)


parts = st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=HOURLY", "FREQ=FOO",
                         "COUNT=5", "COUNT=x", "INTERVAL=2", "BYDAY=MO,WE", "BYDAY=XX", "BYDAY=1FR", "BYDAY=-1SU",
                         "BYMONTHDAY=15", "BYMONTHDAY=40", "BYMONTH=13", "UNTIL=20240101T000000Z",
                         "UNTIL=20240101", "WKST=SU", "garbage", "BYSETPOS=-1"])
rules = st.builds(lambda name, ps: name + ":" + ";".join(ps),
                  st.sampled_from(["RRULE", "rrule", "EXRULE", "Rrule", "DTSTART", "RULE"]),
                  st.lists(parts, min_size=1, max_size=4))
dates = st.builds(lambda name, p, d: f"{name}{p}:{d}", st.sampled_from(["RDATE", "EXDATE", "exdate"]),
                  st.sampled_from(["", ";VALUE=DATE", ";TZID=America/New_York", ";TZID=Mars/Base", ";VALUE=PERIOD"]),
                  st.sampled_from(["20240101", "20240101T100000", "20240101T100000Z", "2024-01-01", "garbage",
                                   "20240101T100000,20240108T100000", "20241301"]))
cells = st.lists(st.one_of(rules, dates), min_size=1, max_size=3).map(" ".join)
batch = st.lists(st.one_of(cells, cells, cells, st.text(max_size=12)), min_size=1, max_size=BATCH)


@diff_settings()
@given(batch)
def test_recurrence_agrees_with_rrulestr(texts: list[str]) -> None:
    got = run_type("recurrence", texts)
    bad = [(t, sorted(c)) for t, (_, c) in zip(texts, got) if bool(errors(c)) != ref_recurrence(t)]
    assert bad == []


@diff_settings(400)
@given(st.lists(st.one_of(st.sampled_from(ZONES), st.sampled_from(["localtime", "Factory", "posixrules", "Mars/Base",
                                                                     "europe/zurich", "US/Pacific", "EST5EDT"]),
                          st.text(max_size=10)), min_size=1, max_size=BATCH))
def test_timezone_names_are_tzdata_zones(texts: list[str]) -> None:
    got = run_type("timezone", texts)
    folded = {z.casefold(): z for z in ZONES}
    for t, (value, codes) in zip(texts, got):
        key = (t or "").strip().lower().replace(" ", "_")
        if not key:
            continue
        if key in folded:
            assert value == folded[key] and not errors(codes), t
        else:
            assert "timezone.invalid" in codes, t
