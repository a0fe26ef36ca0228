"""Differential test: date, datetime and date_or_datetime against Python's strptime and zoneinfo (tzdata)."""
from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from diffkit import BATCH, EXAMPLES, diff_settings, mismatches, run_type
from hypothesis import given
from hypothesis import strategies as st

from csvprep.fields.dates import AWARE_FORMATS, DATE_FORMATS, ISO_DATETIME, LOCAL_DATETIME

UTC = dt.timezone.utc
ZONES = ["UTC", "America/New_York", "Europe/Zurich", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia"]


def zone(name: str) -> ZoneInfo:
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as fh:
        return ZoneInfo.from_file(fh, key=name)


def first(text: str, formats: list[str]) -> dt.datetime | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    return None


def pre_step(text: str) -> str:
    """README: a trailing Z is +00:00, after a time +HH / +HHMM is +HH:MM, fractions beyond 6 digits dropped."""
    text = re.sub(r"Z$", "+00:00", text)
    if re.search(r"[T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?[+-][0-9]{2}(:?[0-9]{2})?$", text):
        text = re.sub(r"([+-][0-9]{2}):?([0-9]{2})$", r"\1:\2", text)
        text = re.sub(r"([+-][0-9]{2})$", r"\1:00", text)
    return re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", text)


def ref_date(text: str | None, order: str) -> tuple[str | None, bool]:
    t = (text or "").strip()
    if not t:
        return None, False
    d = first(t, DATE_FORMATS[order])
    return (d.date().isoformat(), False) if d else (None, True)


def local_to_utc(d: dt.datetime, name: str) -> dt.datetime | None:
    if name == "UTC":
        return d
    z = zone(name)
    try:
        u = d.replace(tzinfo=z).astimezone(UTC)
    except OverflowError:
        return None
    return u.replace(tzinfo=None) if u.astimezone(z).replace(tzinfo=None) == d else None


def moment(t: str, order: str) -> dt.datetime | None:
    d = first(pre_step(t), [*AWARE_FORMATS, *ISO_DATETIME, *LOCAL_DATETIME[order]])
    if d is not None and d.tzinfo is not None:
        try:
            return d.astimezone(UTC)
        except OverflowError:
            return None
    return d


def ref_datetime(text: str | None, order: str, name: str) -> tuple[str | None, bool]:
    t = (text or "").strip()
    if not t:
        return None, False
    d = moment(t, order)
    if d is not None:
        d = d.replace(tzinfo=None) if d.tzinfo else local_to_utc(d, name)
    return (d.isoformat(timespec="milliseconds") + "Z", False) if d else (None, True)


def ref_date_or_datetime(text: str | None, order: str) -> tuple[str | None, bool]:
    t = (text or "").strip()
    if not t:
        return None, False
    day = first(t, DATE_FORMATS[order])
    if day:
        return day.date().isoformat(), False
    d = moment(t, order)
    if d is None:
        return None, True
    return d.replace(tzinfo=None).isoformat(timespec="seconds") + ("Z" if d.tzinfo else ""), False


# -- generated values -----------------------------------------------------------------------
MONTHS = ["Jan", "feb", "MAR", "April", "may", "June", "Sept", "Sep", "December", "Foo"]


def num(lo: int, hi: int, widths: tuple[int, ...] = (1, 2)) -> st.SearchStrategy[str]:
    return st.builds(lambda n, w: str(n).zfill(w), st.integers(lo, hi), st.sampled_from(widths))


def mostly(good: st.SearchStrategy[str], wild: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Plausible values three times in four, the edges the rest."""
    return st.one_of(good, good, good, wild)


years = mostly(st.one_of(num(1900, 2100, (4,)), num(0, 99, (2,))),
               st.one_of(num(0, 9999, (4,)), num(0, 999, (1, 3)),
                         st.sampled_from(["0000", "0001", "1969", "69", "68", "70", "00", "9999", "76", "21"])))
months, days = mostly(num(1, 12), num(0, 13)), mostly(num(1, 28), num(0, 32))
date_texts = st.one_of(
    st.builds(lambda y, m, d, s, o: s.join([y, m, d] if o == 0 else [m, d, y] if o == 1 else [d, m, y]),
              years, months, days, st.sampled_from(["-", "/", ".", ""]), st.integers(0, 2)),
    st.builds(lambda d, mo, y, o: f"{d} {mo} {y}" if o else f"{mo} {d}, {y}", days, st.sampled_from(MONTHS), years,
              st.booleans()),
)
offsets = st.sampled_from(["", "", "Z", "+00:00", "-05:00", "+0530", "+01", "-0800", "+24:00", "+05:60", "+14:00",
                           "-12:45", " +01:00", "z"])
times = st.builds(
    lambda h, m, s, f, ampm: f"{h}:{m}" + (f":{s}" if s is not None else "") + (f".{f}" if f and s else "") + ampm,
    mostly(num(0, 23), num(0, 25)), mostly(num(0, 59, (2,)), num(0, 61)),
    st.none() | mostly(num(0, 59, (2,)), num(0, 61, (1, 2))), st.none() | st.text("0123456789", min_size=1, max_size=9),
    st.sampled_from(["", "", "", "", " AM", " pm", "PM"]))
moment_days = st.one_of(
    st.builds(lambda y, m, d: f"{y}-{m}-{d}", num(1900, 2100, (4,)), num(1, 12, (2,)), num(1, 28, (2,))),
    st.builds(lambda y, m, d, s: f"{m}{s}{d}{s}{y}", years, months, days, st.sampled_from(["/", "-", "."])),
    date_texts)
moment_texts = st.builds(lambda d, sep, t, z: f"{d}{sep}{t}{z}", moment_days, st.sampled_from(["T", " ", "T", " ", "t", "  "]),
                         times, offsets)
noise = st.text("0123456789/-.: TZ+apm", max_size=22)
values = st.one_of(date_texts, moment_texts, moment_texts, noise,
                   st.sampled_from(["7/4/76", "3/15/21 9:30", "2016-12-31 23:59:60", "0000-01-01", "2024-02-29",
                                    "2023-02-29", "31/12/24", "12/31/69", "1/1/68", "0001-01-01T00:30:00+01:00",
                                    "9999-12-31T23:30:00-01:00", "2024-03-10 02:30", "2024-11-03 01:30",
                                    "2024-05-31T13:30:00.1234567Z", "  2024-05-31  ", ""]))
batch = st.lists(values, min_size=1, max_size=BATCH)


@pytest.mark.parametrize("order", ["MDY", "DMY"])
@diff_settings()
@given(batch)
def test_date_agrees_with_strptime(order: str, texts: list[str]) -> None:
    got = run_type("date", texts, date_order=order)
    assert mismatches(got, [ref_date(t, order) for t in texts], texts) == []


@pytest.mark.parametrize("name", ZONES)
@diff_settings(EXAMPLES // 2)
@given(batch, st.sampled_from(["MDY", "DMY"]))
def test_datetime_agrees_with_strptime_and_zoneinfo(name: str, texts: list[str], order: str) -> None:
    got = run_type("datetime", texts, timezone=name, date_order=order)
    assert mismatches(got, [ref_datetime(t, order, name) for t in texts], texts) == []


@diff_settings()
@given(batch, st.sampled_from(["MDY", "DMY"]))
def test_date_or_datetime_agrees_with_strptime(texts: list[str], order: str) -> None:
    got = run_type("date_or_datetime", texts, date_order=order)
    assert mismatches(got, [ref_date_or_datetime(t, order) for t in texts], texts) == []


# -- the classes of the issue, with the values spelled out -------------------------------------
def test_two_digit_years_pivot_like_strptime() -> None:
    got = run_type("date", ["7/4/76", "7/4/68", "7/4/69", "31/12/24"], date_order="MDY")
    assert [v for v, _ in got[:3]] == ["1976-07-04", "2068-07-04", "1969-07-04"]
    assert "date.invalid" in got[3][1]
    assert run_type("date", ["31/12/24"], date_order="DMY")[0][0] == "2024-12-31"


def test_two_digit_year_datetime_in_a_zone() -> None:
    got = run_type("datetime", ["3/15/21 9:30"], timezone="America/New_York")
    assert got[0] == ("2021-03-15T13:30:00.000Z", set())
    assert run_type("date_or_datetime", ["15/3/21 9:30"], date_order="DMY")[0][0] == "2021-03-15T09:30:00"


@pytest.mark.parametrize("kind", ["datetime", "date_or_datetime"])
def test_leap_second_and_year_zero_are_rejected(kind: str) -> None:
    got = run_type(kind, ["2016-12-31 23:59:60", "0000-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00"])
    assert all(f"{kind}.invalid" in codes for _, codes in got)
    assert "date.invalid" in run_type("date", ["0000-01-01"])[0][1]


def test_skipped_local_time_is_rejected_and_repeated_one_takes_the_earlier() -> None:
    got = run_type("datetime", ["2024-03-10 02:30", "2024-11-03 01:30"], timezone="America/New_York")
    assert "datetime.invalid" in got[0][1]
    assert got[1][0] == "2024-11-03T05:30:00.000Z"
