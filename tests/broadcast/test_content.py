"""The broadcast content validates at start-up and names file, entry and field on every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.broadcast.content import load_broadcast_content
from bot.broadcast.roles import AMBASSADOR, HR, MANAGER, YamlRoleDirectory
from bot.config import PROJECT_ROOT
from bot.content_errors import ContentError
from tests.broadcast.helpers import AMBASSADOR_KSF, AMBASSADOR_KULTUR, EMPLOYEE_ID, HR_ID, MANAGER_ID, content_dir


def test_the_shipped_content_is_valid() -> None:
    content = load_broadcast_content(PROJECT_ROOT / "content")
    assert {"hygien", "avstand", "sjuk", "pauser", "arbete-fritid"} <= set(content.templates)
    assert [s.id for s in content.sections] == ["beslut", "arbetsplatsen", "franvaro", "framat", "kontakt"]
    assert content.schedule.lagesbild.weekday == "monday"


def test_roles_by_object_id_everyone_else_is_an_employee() -> None:
    roles = YamlRoleDirectory(load_broadcast_content(PROJECT_ROOT / "content"))
    assert roles.roles_of(HR_ID) == {HR}
    assert roles.roles_of(HR_ID.upper()) == {HR}
    assert roles.roles_of(MANAGER_ID) == {MANAGER}
    assert roles.roles_of(AMBASSADOR_KSF) == {AMBASSADOR}
    assert roles.roles_of(EMPLOYEE_ID) == set()
    assert roles.roles_of(None) == set()
    assert [u.id for u in roles.ambassador_units(AMBASSADOR_KULTUR)] == ["kultur-fritid", "idrott-fritid"]
    assert roles.ambassador_units(HR_ID) == []


def test_missing_files_mean_nothing_configured(tmp_path: Path) -> None:
    content = load_broadcast_content(tmp_path)
    assert content.units == {}
    assert YamlRoleDirectory(content).roles_of(HR_ID) == set()


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("roles.yaml", "hr:\n  - id: not-a-guid\n", ("roles.yaml", "not-a-guid", "id")),
        ("roles.yaml", "hr:\n  - name: Anna\n", ("roles.yaml", "hr[0]", "id")),
        (
            "roles.yaml",
            "ambassadors:\n  - id: 00000000-0000-0000-0000-0000000000c9\n    units: [no-such-unit]\n",
            ("roles.yaml", "00000000-0000-0000-0000-0000000000c9", "units"),
        ),
        (
            "roles.yaml",
            "hr:\n  - id: 00000000-0000-0000-0000-0000000000a1\n    role: boss\n",
            ("roles.yaml", "00000000-0000-0000-0000-0000000000a1", "role"),
        ),
        ("units.yaml", "units:\n  - id: Bad Id\n    name: X\n", ("units.yaml", "Bad Id", "id")),
        ("units.yaml", "units:\n  - id: a\n    name: A\n  - id: a\n    name: B\n", ("units.yaml", "a", "id")),
        (
            "units.yaml",
            "units:\n  - id: a\n    name: A\n    channels: ['19:x;messageid=1']\n",
            ("units.yaml", "a", "channels"),
        ),
        (
            "lagesbild.yaml",
            "sections:\n  - id: beslut\n    title: {sv: Beslut}\n",
            ("lagesbild.yaml", "beslut", "title.en"),
        ),
        (
            "lagesbild.yaml",
            "sections:\n  - id: summary\n    title: {sv: S, en: S}\n",
            ("lagesbild.yaml", "summary", "id"),
        ),
        ("reminders.yaml", "templates:\n  - id: x\n    title: {sv: X, en: X}\n", ("reminders.yaml", "x", "text")),
        ("schedule.yaml", "lagesbild:\n  weekday: mondag\n", ("schedule.yaml", "lagesbild", "weekday")),
        ("schedule.yaml", "lagesbild:\n  time: '25:00'\n", ("schedule.yaml", "lagesbild", "time")),
        ("schedule.yaml", "pauses:\n  - from: 2021-08-16\n    to: 2021-06-24\n", ("schedule.yaml", "pauses[0]", "")),
        (
            "schedule.yaml",
            "pauses:\n  - from: 2021-06-24\n    to: 08-16\n    yearly: true\n",
            ("schedule.yaml", "pauses[0]", ""),
        ),
        ("schedule.yaml", "grace_hours: -1\n", ("schedule.yaml", "grace_hours", "")),
        ("schedule.yaml", "lagesbild: [\n", ("schedule.yaml", "", "")),
    ],
)
def test_invalid_content_names_file_entry_and_field(tmp_path: Path, file: str, text: str, expected: tuple) -> None:
    folder = content_dir(tmp_path, **{file: text})
    with pytest.raises(ContentError) as caught:
        load_broadcast_content(folder)
    problems = [(p.file, p.entry, p.field) for p in caught.value.problems]
    assert expected in problems, caught.value


def test_unquoted_yaml_time_is_read_as_a_time(tmp_path: Path) -> None:
    # YAML 1.1 reads 08:00 without quotes as the number 480.
    content = load_broadcast_content(content_dir(tmp_path, **{"schedule.yaml": "lagesbild:\n  time: 08:00\n"}))
    assert content.schedule.lagesbild.time.hour == 8


def test_a_lagesbild_field_over_the_limit_is_refused_with_the_limit_not_cut() -> None:
    """A 100 KB text used to be cut to 4,000 characters without a word."""
    from bot.broadcast.lagesbild import MAX_FIELD, ReportProblem, parse_report_text
    from bot.broadcast.texts import bt

    long_text = "Smittspridningen ökar. " * 5000
    with pytest.raises(ReportProblem) as problem:
        parse_report_text(f"sammanfattning: {long_text}", [], "48")
    assert problem.value.key == "lb_too_long"
    said = bt(problem.value.key, "sv", **problem.value.detail)
    assert f"{MAX_FIELD:,}".replace(",", " ") in said
    assert "sammanfattning" in said.lower()
    assert str(len(long_text.strip())) in said.replace(" ", "")
