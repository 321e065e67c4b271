"""Schedule maths as tables of datetimes: Monday 08:00 Stockholm across the summer-time changes, pauses, due slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.schedule_math import (
    Pause,
    WeeklyRule,
    due_slot,
    latest_slot_at_or_before,
    local_to_utc,
    next_slot_after,
    next_unpaused_slot,
    pause_covering,
    shift_rule,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY_0800 = WeeklyRule(frozenset({0}), time(8, 0))
SUMMER_2021 = Pause(date(2021, 6, 24), date(2021, 8, 16), reason="sommaren 2021")
YEARLY_SUMMER = Pause(date(2000, 6, 24), date(2000, 8, 16), yearly=True)
CHRISTMAS = Pause(date(2000, 12, 20), date(2000, 1, 6), yearly=True)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Winter (CET, UTC+1): 08:00 local is 07:00 UTC.
        (utc(2026, 11, 23, 6, 59), utc(2026, 11, 23, 7, 0)),
        (utc(2026, 11, 23, 7, 0), utc(2026, 11, 30, 7, 0)),  # strictly after
        # Summer time starts on the last Sunday of March 2027 (the 28th): the Monday after is CEST.
        (utc(2027, 3, 22, 7, 0), utc(2027, 3, 29, 6, 0)),
        (utc(2027, 3, 27, 12, 0), utc(2027, 3, 29, 6, 0)),
        (utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 6, 0)),  # during the change itself
        # Summer time ends on the last Sunday of October 2027 (the 31st): back to 07:00 UTC.
        (utc(2027, 10, 25, 6, 0), utc(2027, 11, 1, 7, 0)),
        (utc(2027, 10, 31, 0, 30), utc(2027, 11, 1, 7, 0)),
        (utc(2027, 10, 24, 23, 0), utc(2027, 10, 25, 6, 0)),
    ],
)
def test_next_monday_0800_slot(after: datetime, expected: datetime) -> None:
    slot = next_slot_after(after, MONDAY_0800, STOCKHOLM)
    assert slot == expected
    assert slot.astimezone(STOCKHOLM).hour == 8
    assert slot.astimezone(STOCKHOLM).weekday() == 0


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2027, 3, 29, 5, 59), utc(2027, 3, 22, 7, 0)),
        (utc(2027, 3, 29, 6, 0), utc(2027, 3, 29, 6, 0)),
        (utc(2027, 11, 1, 6, 30), utc(2027, 10, 25, 6, 0)),
        (utc(2027, 11, 1, 7, 0), utc(2027, 11, 1, 7, 0)),
    ],
)
def test_latest_slot_at_or_before(moment: datetime, expected: datetime) -> None:
    assert latest_slot_at_or_before(moment, MONDAY_0800, STOCKHOLM) == expected


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        (date(2027, 3, 28), time(2, 30), utc(2027, 3, 28, 1, 30)),  # does not exist: 03:30 CEST
        (date(2027, 10, 31), time(2, 30), utc(2027, 10, 31, 0, 30)),  # twice: the first (CEST)
        (date(2027, 1, 4), time(8, 0), utc(2027, 1, 4, 7, 0)),
        (date(2027, 7, 5), time(8, 0), utc(2027, 7, 5, 6, 0)),
    ],
)
def test_local_to_utc_in_gaps_and_overlaps(day: date, at: time, expected: datetime) -> None:
    assert local_to_utc(day, at, STOCKHOLM) == expected


@pytest.mark.parametrize(
    ("moment", "paused"),
    [
        (utc(2021, 6, 23, 21, 59), False),  # 23:59 local on the 23rd
        (utc(2021, 6, 23, 22, 0), True),  # 00:00 local on the 24th
        (utc(2021, 6, 28, 6, 0), True),
        (utc(2021, 8, 16, 6, 0), True),  # the last day is included
        (utc(2021, 8, 16, 21, 59), True),
        (utc(2021, 8, 16, 22, 0), False),  # 00:00 on the 17th: resumed
        (utc(2021, 8, 23, 6, 0), False),
    ],
)
def test_summer_2021_pause(moment: datetime, paused: bool) -> None:
    assert (pause_covering(moment, [SUMMER_2021], STOCKHOLM) is not None) is paused


@pytest.mark.parametrize(
    ("day", "summer", "christmas"),
    [
        (date(2027, 6, 23), False, False),
        (date(2027, 6, 24), True, False),
        (date(2030, 8, 16), True, False),
        (date(2030, 8, 17), False, False),
        (date(2027, 12, 19), False, False),
        (date(2027, 12, 20), False, True),
        (date(2028, 1, 1), False, True),
        (date(2028, 1, 6), False, True),
        (date(2028, 1, 7), False, False),
    ],
)
def test_yearly_pauses_including_over_new_year(day: date, summer: bool, christmas: bool) -> None:
    assert YEARLY_SUMMER.covers(day) is summer
    assert CHRISTMAS.covers(day) is christmas


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2021, 6, 21, 7, 0), utc(2021, 8, 23, 6, 0)),  # every Monday from 28 June to 16 August paused
        (utc(2021, 6, 20, 12, 0), utc(2021, 6, 21, 6, 0)),
        (utc(2027, 6, 22, 12, 0), utc(2027, 8, 23, 6, 0)),  # the yearly pause
    ],
)
def test_next_unpaused_slot_resumes_by_itself(after: datetime, expected: datetime) -> None:
    assert next_unpaused_slot(after, MONDAY_0800, [SUMMER_2021, YEARLY_SUMMER], STOCKHOLM) == expected


def test_a_pause_covering_everything_has_no_next_slot() -> None:
    always = Pause(date(2000, 1, 1), date(2000, 12, 31), yearly=True)
    assert next_unpaused_slot(utc(2027, 1, 1), MONDAY_0800, [always], STOCKHOLM) is None


GRACE = timedelta(hours=6)


@pytest.mark.parametrize(
    ("now", "kwargs", "expected"),
    [
        (utc(2027, 3, 29, 5, 59), {}, None),  # the previous slot is a week old
        (utc(2027, 3, 29, 6, 0), {}, utc(2027, 3, 29, 6, 0)),
        (utc(2027, 3, 29, 11, 59), {}, utc(2027, 3, 29, 6, 0)),  # down until 13:59 local: within grace
        (utc(2027, 3, 29, 12, 1), {}, None),  # beyond grace: skipped, not run late
        (utc(2027, 3, 29, 6, 0), {"not_before": utc(2027, 3, 29, 6, 1)}, None),  # created after the slot
        (utc(2027, 3, 29, 6, 0), {"until": date(2027, 3, 28)}, None),
        (utc(2027, 3, 29, 6, 0), {"until": date(2027, 3, 29)}, utc(2027, 3, 29, 6, 0)),
    ],
)
def test_due_slot_weekly(now: datetime, kwargs: dict, expected: datetime | None) -> None:
    assert due_slot(now, grace=GRACE, tz=STOCKHOLM, rule=MONDAY_0800, **kwargs) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 12, 1, 7, 59), None),
        (utc(2026, 12, 1, 8, 0), utc(2026, 12, 1, 8, 0)),
        (utc(2026, 12, 1, 14, 0), utc(2026, 12, 1, 8, 0)),
        (utc(2026, 12, 1, 14, 1), None),
    ],
)
def test_due_slot_once(now: datetime, expected: datetime | None) -> None:
    assert due_slot(now, grace=GRACE, tz=STOCKHOLM, once_at=utc(2026, 12, 1, 8, 0)) == expected


def test_hr_reminder_rule_is_the_day_before() -> None:
    sunday_1000 = shift_rule(MONDAY_0800, 1, time(10, 0))
    assert sunday_1000 == WeeklyRule(frozenset({6}), time(10, 0))
    # The Sunday of the spring change: 10:00 is already CEST.
    assert next_slot_after(utc(2027, 3, 27), sunday_1000, STOCKHOLM) == utc(2027, 3, 28, 8, 0)
