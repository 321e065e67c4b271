"""The forgiving syntax of the ambassadors' reminder command, as a pure function.

    påminnelse [för <enhet>] nu <text | mall>
    påminnelse [för <enhet>] <när> <tid> <text | mall>          once
    påminnelse [för <enhet>] varje <dagar> <tid> [till <datum>] <text | mall>

<när> is a date (2026-12-01, 1/12, 1/12/2027), idag/today, imorgon/tomorrow or a weekday (the
next one); <tid> is 09:00, 9.00, 9 or "kl 9"; <dagar> is dag/day, vardag/weekday or weekdays
joined by "," / och / and. The English words work the same ("reminder for ksf-hr every monday
09:00 until 2026-12-31 hygiene"). The text is free, or a template id ("hygien"), or "mall hygien".
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.broadcast.schedule_math import local_to_utc

NOW_WORDS = {"nu", "now", "direkt", "genast"}
EVERY_WORDS = {"varje", "every", "each", "alla", "all"}
UNIT_WORDS = {"för", "for", "enhet", "unit"}
UNTIL_WORDS = {"till", "until", "tom", "t.o.m.", "tom.", "to", "t.o.m"}
TIME_WORDS = {"kl", "kl.", "klockan", "at"}
JOIN_WORDS = {"och", "and", "&", ","}
TEMPLATE_WORDS = {"mall", "template"}
TODAY_WORDS = {"idag", "today"}
TOMORROW_WORDS = {"imorgon", "imorn", "tomorrow"}

WEEKDAY_WORDS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("måndag", "mandag", "mån", "monday", "mon"),
        ("tisdag", "tis", "tuesday", "tue"),
        ("onsdag", "ons", "wednesday", "wed"),
        ("torsdag", "tors", "tor", "thursday", "thu"),
        ("fredag", "fre", "friday", "fri"),
        ("lördag", "lordag", "lör", "saturday", "sat"),
        ("söndag", "sondag", "sön", "sunday", "sun"),
    )
):
    for _name in _names:
        WEEKDAY_WORDS[_name] = _n
        WEEKDAY_WORDS[_name + ("ar" if _name.endswith("dag") else "s")] = _n  # måndagar, mondays
ALL_DAYS = {"dag", "dagar", "day", "days", "dygn"}
WORK_DAYS = {"vardag", "vardagar", "weekday", "weekdays", "arbetsdag", "arbetsdagar"}

_TIME = re.compile(r"^(?:kl\.?)?(\d{1,2})(?:[:.](\d{2}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DM = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?$")


class ReminderSyntaxError(ValueError):
    """The command could not be read; `key` names the message (with an example) to show."""

    def __init__(self, key: str, **detail: str) -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class ReminderRequest:
    kind: str  # now | once | weekly
    unit_id: str | None = None
    run_at: datetime | None = None  # once, UTC
    weekdays: frozenset[int] = frozenset()
    at: time | None = None  # weekly, local
    until: date | None = None  # weekly, last local date (inclusive)
    template_id: str | None = None
    text: str | None = None


class _Tokens:
    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        self.i = 0

    def peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        if j >= len(self.spans):
            return None
        start, end = self.spans[j]
        return self.text[start:end].lower().strip(",;")

    def take(self) -> str:
        word = self.peek()
        if word is None:
            raise ReminderSyntaxError("rem_syntax")
        self.i += 1
        return word

    def rest(self) -> str:
        if self.i >= len(self.spans):
            return ""
        return self.text[self.spans[self.i][0] :].strip()


def _parse_time(tokens: _Tokens) -> time:
    word = tokens.peek()
    if word in TIME_WORDS:
        tokens.take()
        word = tokens.peek()
    match = _TIME.match(word or "")
    if not match or int(match.group(1)) > 23:
        raise ReminderSyntaxError("rem_need_time")
    tokens.take()
    return time(int(match.group(1)), int(match.group(2) or 0))


def _parse_date(word: str, today: date) -> date | None:
    match = _ISO.match(word)
    try:
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = _DM.match(word)
        if match:
            year = match.group(3)
            if year:
                return date(int(year) + (2000 if len(year) == 2 else 0), int(match.group(2)), int(match.group(1)))
            day = date(today.year, int(match.group(2)), int(match.group(1)))
            return day if day >= today else date(today.year + 1, day.month, day.day)
    except ValueError as exc:
        raise ReminderSyntaxError("rem_bad_date", value=word) from exc
    return None


def _parse_days(tokens: _Tokens) -> frozenset[int]:
    days: set[int] = set()
    while (word := tokens.peek()) is not None:
        parts = [p for p in word.split(",") if p]
        if parts and all(p in WEEKDAY_WORDS or p in ALL_DAYS or p in WORK_DAYS for p in parts):
            for part in parts:
                if part in ALL_DAYS:
                    days.update(range(7))
                elif part in WORK_DAYS:
                    days.update(range(5))
                else:
                    days.add(WEEKDAY_WORDS[part])
            tokens.take()
        elif word in JOIN_WORDS and days:
            tokens.take()
        else:
            break
    if not days:
        raise ReminderSyntaxError("rem_need_days")
    return frozenset(days)


def _message(tokens: _Tokens, templates: Collection[str]) -> tuple[str | None, str | None]:
    rest = tokens.rest()
    if not rest:
        raise ReminderSyntaxError("rem_need_text")
    words = rest.split()
    first = words[0].lower()
    if first in TEMPLATE_WORDS:
        name = words[1].lower() if len(words) > 1 else ""
        if name not in templates:
            raise ReminderSyntaxError("rem_unknown_template", value=name)
        return name, None
    if len(words) == 1 and first in templates:
        return first, None
    return None, rest[:2000]


def parse_reminder(
    args: str, *, now: datetime, tz: ZoneInfo, units: Collection[str], templates: Collection[str]
) -> ReminderRequest:
    """Read the command's arguments (everything after "påminnelse"/"reminder")."""
    tokens = _Tokens(args)
    today = now.astimezone(tz).date()
    unit_id = None
    if tokens.peek() in UNIT_WORDS:
        tokens.take()
        unit_id = tokens.take()
        if unit_id not in units:
            raise ReminderSyntaxError("rem_unknown_unit", value=unit_id)
    word = tokens.peek()
    if word is None:
        raise ReminderSyntaxError("rem_syntax")
    if word in NOW_WORDS:
        tokens.take()
        template, text = _message(tokens, templates)
        return ReminderRequest("now", unit_id, template_id=template, text=text)
    if word in EVERY_WORDS:
        tokens.take()
        days = _parse_days(tokens)
        at = _parse_time(tokens)
        until = None
        if tokens.peek() in UNTIL_WORDS and (until := _parse_date(tokens.peek(1) or "", today)) is not None:
            tokens.take()
            tokens.take()
            if until < today:
                raise ReminderSyntaxError("rem_past")
        template, text = _message(tokens, templates)
        return ReminderRequest("weekly", unit_id, weekdays=days, at=at, until=until, template_id=template, text=text)
    # Once: a day (or none: today), then a time.
    day: date | None
    if word in TODAY_WORDS:
        tokens.take()
        day = today
    elif word in TOMORROW_WORDS:
        tokens.take()
        day = today + timedelta(days=1)
    elif word in WEEKDAY_WORDS:
        tokens.take()
        day = today + timedelta(days=(WEEKDAY_WORDS[word] - today.weekday()) % 7)
    elif (parsed := _parse_date(word, today)) is not None:
        tokens.take()
        day = parsed
    elif _TIME.match(word) or word in TIME_WORDS:
        day = today
    else:
        raise ReminderSyntaxError("rem_syntax")
    at = _parse_time(tokens)
    run_at = local_to_utc(day, at, tz)
    if run_at <= now and word in WEEKDAY_WORDS:
        run_at = local_to_utc(day + timedelta(days=7), at, tz)
    if run_at <= now:
        raise ReminderSyntaxError("rem_past")
    template, text = _message(tokens, templates)
    return ReminderRequest("once", unit_id, run_at=run_at, template_id=template, text=text)
