"""The broadcast content files (roles, units, lägesbild sections, reminder templates, schedule).

Each file is validated with pydantic at start-up; every problem becomes a ContentProblem that
names the file, the entry and the field, and the service refuses to start. A file that does not
exist means "nothing configured" (no roles, no units …), so a deployment can adopt them one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.broadcast.schedule_math import WEEKDAYS, Pause, WeeklyRule, weekday_number
from bot.content_errors import ContentError, ContentProblem
from bot.content_yaml import parse_yaml, validate

M = TypeVar("M", bound=BaseModel)

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

ROLES_FILE = "roles.yaml"
UNITS_FILE = "units.yaml"
LAGESBILD_FILE = "lagesbild.yaml"
REMINDERS_FILE = "reminders.yaml"
SCHEDULE_FILE = "schedule.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Strict):
    """A text in Swedish and English; both are required."""

    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.sv


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError("must be lower-case letters, digits, '-' or '_' (e.g. ksf-hr)")
    return value


SlugId = Annotated[str, AfterValidator(_slug)]


def _parse_hhmm(value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal number 480.
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = HHMM.match(str(value).strip())
    if not match:
        raise ValueError('must be a time "HH:MM", e.g. "08:00"')
    return time(int(match.group(1)), int(match.group(2)))


class Person(_Strict):
    id: str
    name: str = ""

    @field_validator("id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not GUID.match(value):
            raise ValueError("must be an Entra object id (aadObjectId), e.g. 00000000-0000-0000-0000-0000000000a1")
        return value.lower()


class Ambassador(Person):
    units: list[str] = Field(min_length=1)


class TeamRoles(_Strict):
    """Roles held by the members of a Teams team, named by the team's id (19:…@thread.tacv2 or
    …@thread.skype, as Teams gives it); the bot must be installed in that team to read its roster."""

    hr: list[str] = []
    managers: list[str] = []

    @field_validator("hr", "managers")
    @classmethod
    def _team_ids(cls, value: list[str]) -> list[str]:
        for team in value:
            if not team.startswith("19:") or "@thread." not in team:
                raise ValueError(f"{team!r} is not a Teams team id (19:…@thread.tacv2)")
        return value


class ContentOwner(Person):
    """Owns knowledge entries: sees what goes unanswered and teaches the bot. Without `files` and `topics` an
    owner owns every entry; with them, only the entries of those knowledge files (by name) or topics (by id)."""

    files: list[str] = []
    topics: list[str] = []


class RolesFile(_Strict):
    hr: list[Person] = []
    managers: list[Person] = []
    ambassadors: list[Ambassador] = []
    content_owners: list[ContentOwner] = []
    teams: TeamRoles = TeamRoles()


class Unit(_Strict):
    id: SlugId
    name: str = Field(min_length=1)
    channels: list[str] = []  # Teams channel conversation ids, e.g. 19:…@thread.tacv2

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: list[str]) -> list[str]:
        for channel in value:
            if not channel.strip() or ";" in channel or any(c.isspace() for c in channel):
                raise ValueError(f"{channel!r} is not a Teams conversation id (e.g. 19:abc@thread.tacv2)")
        return value


class UnitsFile(_Strict):
    units: list[Unit] = []


class Section(_Strict):
    id: SlugId
    title: Texts
    hint: Texts | None = None
    required: bool = False


class LagesbildFile(_Strict):
    sections: list[Section] = []


class Template(_Strict):
    id: SlugId
    title: Texts
    text: Texts


class RemindersFile(_Strict):
    templates: list[Template] = []


class Slot(_Strict):
    weekday: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    time: Any = "08:00"

    @field_validator("time")
    @classmethod
    def _time(cls, value: Any) -> time:
        return _parse_hhmm(value)


class HrReminder(_Strict):
    days_before: int = Field(default=1, ge=1, le=6)
    time: Any = "10:00"

    @field_validator("time")
    @classmethod
    def _time(cls, value: Any) -> time:
        return _parse_hhmm(value)


class PauseEntry(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: Any = Field(alias="from")
    end: Any = Field(alias="to")
    yearly: bool = False
    reason: str = ""
    applies_to: list[Literal["lagesbild", "reminders"]] = ["lagesbild", "reminders"]

    @model_validator(mode="after")
    def _dates(self) -> PauseEntry:
        start, end = _pause_date(self.start, self.yearly), _pause_date(self.end, self.yearly)
        if not self.yearly and end < start:
            raise ValueError("'to' is before 'from'")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        return self

    def pause(self) -> Pause:
        return Pause(self.start, self.end, self.yearly, self.reason)


def _pause_date(value: Any, yearly: bool) -> date:
    if yearly:
        match = re.match(r"^(\d{1,2})-(\d{1,2})$", str(value).strip())
        if not match:
            raise ValueError('a yearly pause takes "MM-DD" dates, e.g. "06-24"')
        return date(2000, int(match.group(1)), int(match.group(2)))  # 2000 is a leap year: 02-29 is valid
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError('a dated pause takes "YYYY-MM-DD" dates (or set yearly: true)') from exc


class ScheduleFile(_Strict):
    lagesbild: Slot = Slot()
    hr_reminder: HrReminder = HrReminder()
    grace_hours: float = Field(default=6.0, ge=0, le=72)
    pauses: list[PauseEntry] = []


@dataclass(frozen=True)
class BroadcastContent:
    """Everything the broadcast feature reads from content/, validated."""

    roles: RolesFile = field(default_factory=RolesFile)
    units: dict[str, Unit] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    templates: dict[str, Template] = field(default_factory=dict)
    schedule: ScheduleFile = field(default_factory=ScheduleFile)

    @property
    def lagesbild_rule(self) -> WeeklyRule:
        slot = self.schedule.lagesbild
        return WeeklyRule(frozenset({weekday_number(slot.weekday)}), slot.time)

    @property
    def grace(self) -> timedelta:
        return timedelta(hours=self.schedule.grace_hours)

    def pauses_for(self, kind: Literal["lagesbild", "reminders"]) -> list[Pause]:
        return [p.pause() for p in self.schedule.pauses if kind in p.applies_to]


def _validate(model: type[M], path: Path, problems: list[ContentProblem]) -> M:
    """The file's document; a missing file, or one with problems, gives the model's defaults."""
    parsed = parse_yaml(path, path.name, problems, required=False)
    found = validate(model, parsed, path.name, problems) if parsed is not None else None
    return found if found is not None else model()


def _duplicates(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    return {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]


def load_broadcast_content(content_dir: Path) -> BroadcastContent:
    """Read and cross-check the five files; raises ContentError naming every problem."""
    problems: list[ContentProblem] = []
    roles: RolesFile = _validate(RolesFile, content_dir / ROLES_FILE, problems)
    units_file: UnitsFile = _validate(UnitsFile, content_dir / UNITS_FILE, problems)
    lagesbild: LagesbildFile = _validate(LagesbildFile, content_dir / LAGESBILD_FILE, problems)
    reminders: RemindersFile = _validate(RemindersFile, content_dir / REMINDERS_FILE, problems)
    schedule: ScheduleFile = _validate(ScheduleFile, content_dir / SCHEDULE_FILE, problems)

    for file, ids in (
        (UNITS_FILE, [u.id for u in units_file.units]),
        (LAGESBILD_FILE, [s.id for s in lagesbild.sections]),
        (REMINDERS_FILE, [t.id for t in reminders.templates]),
    ):
        for dup in sorted(_duplicates(ids)):
            problems.append(ContentProblem(file, dup, "id", "appears more than once"))
    reserved = {"mode", "week", "summary"}
    for section in lagesbild.sections:
        if section.id in reserved:
            problems.append(ContentProblem(LAGESBILD_FILE, section.id, "id", f"{sorted(reserved)} are reserved"))
    unit_ids = {u.id for u in units_file.units}
    for ambassador in roles.ambassadors:
        for unit_id in ambassador.units:
            if unit_id not in unit_ids:
                problems.append(
                    ContentProblem(ROLES_FILE, ambassador.id, "units", f"unit {unit_id!r} is not in {UNITS_FILE}")
                )
    channel_owner: dict[str, str] = {}
    for unit in units_file.units:
        for channel in unit.channels:
            if channel in channel_owner and channel_owner[channel] != unit.id:
                problems.append(
                    ContentProblem(
                        UNITS_FILE, unit.id, "channels", f"{channel} already belongs to {channel_owner[channel]}"
                    )
                )
            channel_owner[channel] = unit.id
    if problems:
        raise ContentError(problems)
    return BroadcastContent(
        roles=roles,
        units={u.id: u for u in units_file.units},
        sections=list(lagesbild.sections),
        templates={t.id: t for t in reminders.templates},
        schedule=schedule,
    )
