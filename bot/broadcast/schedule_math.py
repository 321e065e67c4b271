"""Pure schedule maths: weekly slots in local wall time, pause periods, and which slot is due.

Everything here takes the moment as an argument and returns aware UTC datetimes, so it is tested
with tables of datetimes (the summer-time changes included) and never by waiting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class WeeklyRule:
    """Local wall time `at` on each of `weekdays` (Monday = 0), in the time zone the caller passes."""

    weekdays: frozenset[int]
    at: time

    def describe(self) -> str:
        days = ",".join(WEEKDAYS[d][:3] for d in sorted(self.weekdays))
        return f"{days} {self.at:%H:%M}"


@dataclass(frozen=True)
class Pause:
    """Nothing scheduled goes out on these local dates (both ends included).

    A dated pause has years; a yearly pause (`yearly=True`) uses only month and day and may run
    over the new year (e.g. 12-20 to 01-06).
    """

    start: date
    end: date
    yearly: bool = False
    reason: str = ""

    def covers(self, day: date) -> bool:
        if not self.yearly:
            return self.start <= day <= self.end
        key = (day.month, day.day)
        first, last = (self.start.month, self.start.day), (self.end.month, self.end.day)
        if first <= last:
            return first <= key <= last
        return key >= first or key <= last


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant when local clocks in `tz` show `at` on `day`.

    A wall time that does not exist (in the spring-forward gap) falls an hour later; one that
    occurs twice (autumn) is the first of the two. Stockholm's 08:00 is neither, so a Monday
    08:00 slot is 07:00 UTC in winter (CET) and 06:00 UTC in summer (CEST).
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def next_slot_after(after: datetime, rule: WeeklyRule, tz: ZoneInfo) -> datetime:
    """The first slot strictly after `after`."""
    day = local_date(after, tz)
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() in rule.weekdays:
            candidate = local_to_utc(candidate_day, rule.at, tz)
            if candidate > after:
                return candidate
    raise ValueError("a weekly rule needs at least one weekday")


def latest_slot_at_or_before(moment: datetime, rule: WeeklyRule, tz: ZoneInfo) -> datetime:
    """The last slot at or before `moment`."""
    day = local_date(moment, tz)
    for offset in range(0, 9):
        candidate_day = day - timedelta(days=offset)
        if candidate_day.weekday() in rule.weekdays:
            candidate = local_to_utc(candidate_day, rule.at, tz)
            if candidate <= moment:
                return candidate
    raise ValueError("a weekly rule needs at least one weekday")


def pause_covering(moment: datetime, pauses: Iterable[Pause], tz: ZoneInfo) -> Pause | None:
    """The pause that covers the local date of `moment`, if any."""
    day = local_date(moment, tz)
    for pause in pauses:
        if pause.covers(day):
            return pause
    return None


def pause_bounds(day: date, pause: Pause) -> tuple[date, date]:
    """The first and last local date of the stretch of `pause` that covers `day` (a yearly pause
    has one stretch a year); `day` itself when the pause does not cover it."""
    start = end = day
    for _ in range(400):
        if not pause.covers(start - timedelta(days=1)):
            break
        start -= timedelta(days=1)
    for _ in range(400):
        if not pause.covers(end + timedelta(days=1)):
            break
        end += timedelta(days=1)
    return start, end


def next_unpaused_slot(
    after: datetime, rule: WeeklyRule, pauses: Sequence[Pause], tz: ZoneInfo, *, horizon_weeks: int = 106
) -> datetime | None:
    """The first slot after `after` that no pause covers; None if pauses cover the whole horizon."""
    slot = next_slot_after(after, rule, tz)
    for _ in range(horizon_weeks * 7):
        if pause_covering(slot, pauses, tz) is None:
            return slot
        slot = next_slot_after(slot, rule, tz)
    return None


def due_slot(
    now: datetime,
    *,
    grace: timedelta,
    tz: ZoneInfo,
    rule: WeeklyRule | None = None,
    once_at: datetime | None = None,
    not_before: datetime | None = None,
    until: date | None = None,
) -> datetime | None:
    """The slot a job should fire for at `now`, or None.

    It is the latest slot at or before `now` that is at most `grace` old, not earlier than
    `not_before` (a schedule never fires for a slot before it existed) and, for weekly rules, on
    or before the local date `until`. Older missed slots are skipped: one run per wake-up at
    most, never a backlog. Whether a slot already fired is the job_runs table's business.
    """
    if (rule is None) == (once_at is None):
        raise ValueError("give exactly one of rule and once_at")
    slot = once_at if once_at is not None else latest_slot_at_or_before(now, rule, tz)  # type: ignore[arg-type]
    if slot > now or now - slot > grace:
        return None
    if not_before is not None and slot < not_before:
        return None
    if until is not None and local_date(slot, tz) > until:
        return None
    return slot


def weekday_number(name: str) -> int:
    """0 for "monday" … 6 for "sunday"."""
    return WEEKDAYS.index(name.strip().lower())


def shift_rule(rule: WeeklyRule, days_before: int, at: time) -> WeeklyRule:
    """The rule `days_before` days earlier at `at` (the HR reminder before the lägesbild slot)."""
    return WeeklyRule(frozenset((d - days_before) % 7 for d in rule.weekdays), at)
