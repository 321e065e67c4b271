"""The reminder command's forgiving syntax, as a table of inputs and what they mean."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.reminder_syntax import ReminderSyntaxError, parse_reminder

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Stockholm
UNITS = {"ksf-hr", "kultur-fritid"}
TEMPLATES = {"hygien", "pauser"}


def parse(text: str):
    return parse_reminder(text, now=NOW, tz=TZ, units=UNITS, templates=TEMPLATES)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "kind", "fields"),
    [
        ("nu hygien", "now", {"template_id": "hygien", "text": None}),
        ("now Remember your break!", "now", {"text": "Remember your break!"}),
        ("nu mall pauser", "now", {"template_id": "pauser"}),
        ("för kultur-fritid nu hygien", "now", {"unit_id": "kultur-fritid"}),
        ("nu hygien är viktigt", "now", {"text": "hygien är viktigt", "template_id": None}),
        ("2026-12-01 09:00 hygien", "once", {"run_at": utc(2026, 12, 1, 8, 0)}),
        ("1/12 kl 9 Glöm inte APT", "once", {"run_at": utc(2026, 12, 1, 8, 0), "text": "Glöm inte APT"}),
        ("imorgon 9.30 hygien", "once", {"run_at": utc(2026, 11, 24, 8, 30)}),
        ("tomorrow at 9 hygien", "once", {"run_at": utc(2026, 11, 24, 8, 0)}),
        ("idag 15:00 hygien", "once", {"run_at": utc(2026, 11, 23, 14, 0)}),
        ("15:00 hygien", "once", {"run_at": utc(2026, 11, 23, 14, 0)}),
        ("måndag 09:00 hygien", "once", {"run_at": utc(2026, 11, 30, 8, 0)}),  # today 09:00 passed: next week
        ("måndag 11:00 hygien", "once", {"run_at": utc(2026, 11, 23, 10, 0)}),
        ("2027-03-29 08:00 hygien", "once", {"run_at": utc(2027, 3, 29, 6, 0)}),  # summer time
        (
            "varje måndag 09:00 till 2026-12-31 hygien",
            "weekly",
            {"weekdays": frozenset({0}), "at": time(9, 0), "until": date(2026, 12, 31), "template_id": "hygien"},
        ),
        (
            "every monday and thursday 9:00 until 2027-01-31 Stretch!",
            "weekly",
            {"weekdays": frozenset({0, 3}), "text": "Stretch!"},
        ),
        ("varje måndag,onsdag kl 8 pauser", "weekly", {"weekdays": frozenset({0, 2}), "until": None}),
        ("varje vardag 15:30 pauser", "weekly", {"weekdays": frozenset(range(5)), "at": time(15, 30)}),
        ("varje dag 12:00 pauser", "weekly", {"weekdays": frozenset(range(7))}),
        (
            "varje måndag 09:00 till alla: tvätta händerna",
            "weekly",
            {"until": None, "text": "till alla: tvätta händerna"},
        ),
        ("every mondays 09:00 pauser", "weekly", {"weekdays": frozenset({0})}),
    ],
)
def test_reads(text: str, kind: str, fields: dict) -> None:
    request = parse(text)
    assert request.kind == kind
    for name, value in fields.items():
        assert getattr(request, name) == value, name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "rem_syntax"),
        ("snart hygien", "rem_syntax"),
        ("nu", "rem_need_text"),
        ("imorgon hygien", "rem_need_time"),
        ("imorgon 25:00 hygien", "rem_need_time"),
        ("2026-12-01 09:00", "rem_need_text"),
        ("2026-02-30 09:00 hygien", "rem_bad_date"),
        ("2026-11-01 09:00 hygien", "rem_past"),
        ("idag 08:00 hygien", "rem_past"),
        ("varje 09:00 hygien", "rem_need_days"),
        ("varje måndag hygien", "rem_need_time"),
        ("varje måndag 09:00 till 2026-01-01 hygien", "rem_past"),
        ("för okänd nu hygien", "rem_unknown_unit"),
        ("nu mall okänd", "rem_unknown_template"),
    ],
)
def test_malformed_input_names_what_is_wrong(text: str, key: str) -> None:
    with pytest.raises(ReminderSyntaxError) as caught:
        parse(text)
    assert caught.value.key == key
