"""The Teams app package: built from the template, valid against the official schema, refused when broken."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from bot.conversation.commands import Command, CommandCall, CommandTable
from deployment import manifest_checks
from deployment.build_app_package import TEAMS_DIR, PackageConfig, build_package
from deployment.manifest_checks import (
    SCHEMA_DIR,
    PackageError,
    command_list_problems,
    command_problems,
    schema_problems,
)

ROOT = Path(__file__).resolve().parents[2]
BOT_ID = "5d1c5c2e-8f4b-4c43-9a55-3b0a6f1e2d7c"
TEAMS_APP_ID = "0b8f3a52-6a3e-4b8e-9d6f-2c1e7a9b4d10"
DOMAIN = "distansstod.kommun.example"
CONFIG = PackageConfig(bot_id=BOT_ID, teams_app_id=TEAMS_APP_ID, bot_domain=DOMAIN)
ENV = {"MicrosoftAppId": BOT_ID, "TEAMS_APP_ID": TEAMS_APP_ID, "BOT_DOMAIN": DOMAIN}


@pytest.fixture
def teams_dir(tmp_path: Path) -> Path:
    """A copy of deployment/teams/ that a test may break."""
    return Path(shutil.copytree(TEAMS_DIR, tmp_path / "teams", ignore=shutil.ignore_patterns("schema")))


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / "v1.30" / name).read_text(encoding="utf-8"))


def refused(teams_dir: Path, tmp_path: Path) -> str:
    out = tmp_path / "out" / "teams-app.zip"
    with pytest.raises(PackageError) as caught:
        build_package(CONFIG, out, teams_dir=teams_dir)
    assert not out.exists(), "a refused package must not be written"
    return str(caught.value)


# ---- the package ------------------------------------------------------------------------------


def test_package_is_valid_and_holds_exactly_manifest_icons_and_translation(tmp_path: Path) -> None:
    out = build_package(CONFIG, tmp_path / "teams-app.zip")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        english = json.loads(archive.read("en.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))

    assert list(Draft4Validator(schema("MicrosoftTeams.schema.json")).iter_errors(manifest)) == []
    assert list(Draft4Validator(schema("MicrosoftTeams.Localization.schema.json")).iter_errors(english)) == []
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["id"] == TEAMS_APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == [DOMAIN]
    assert manifest["version"] == "1.0.0"
    assert "${{" not in json.dumps(manifest)
    assert sorted(manifest["bots"][0]["scopes"]) == ["groupChat", "personal", "team"]
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "sv"
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")


def test_same_input_gives_the_same_zip(tmp_path: Path) -> None:
    first = build_package(CONFIG, tmp_path / "a.zip").read_bytes()
    assert build_package(CONFIG, tmp_path / "b.zip").read_bytes() == first


def test_every_command_list_is_translated_and_within_the_teams_limit() -> None:
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    english = json.loads((TEAMS_DIR / "en.json").read_text(encoding="utf-8"))
    assert command_list_problems(manifest, {"en": english}) == []
    lists = manifest["bots"][0]["commandLists"]
    assert sorted(s for c in lists for s in c["scopes"]) == ["groupChat", "personal", "team"]


def test_committed_schemas_are_the_recorded_official_files() -> None:
    readme = (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| (v[\d.]+/\S+\.json) \| ([0-9a-f]{64}) \|$", readme, re.MULTILINE))
    committed = {p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.glob("v*/*.json")}
    assert set(recorded) == committed
    for name, digest in recorded.items():
        assert hashlib.sha256((SCHEMA_DIR / name).read_bytes()).hexdigest() == digest, name


def test_validation_never_downloads_a_referenced_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def refuse(uri: str) -> None:
        asked.append(uri)
        raise LookupError(uri)

    monkeypatch.setattr(manifest_checks, "_no_download", refuse)
    remote = {"$schema": "http://json-schema.org/draft-04/schema#", "$ref": "https://example.org/other.json"}
    assert schema_problems({}, remote, "x.json") == [
        "x.json: the schema refers to https://example.org/other.json, which is not committed (validation never downloads)"
    ]
    assert asked == ["https://example.org/other.json"]


# ---- the environment --------------------------------------------------------------------------


def test_teams_app_id_defaults_to_the_bot_id() -> None:
    config = PackageConfig.from_env({"MicrosoftAppId": BOT_ID, "BOT_DOMAIN": DOMAIN})
    assert (config.teams_app_id, config.bot_id, config.version) == (BOT_ID, BOT_ID, "1.0.0")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MicrosoftAppId": ""}, "MicrosoftAppId is not set"),
        ({"MicrosoftAppId": "my-bot"}, "MicrosoftAppId must be a GUID"),
        ({"TEAMS_APP_ID": "12345"}, "TEAMS_APP_ID must be a GUID"),
        ({"BOT_DOMAIN": ""}, "BOT_DOMAIN is not set"),
        ({"BOT_DOMAIN": "https://distansstod.kommun.example/api/messages"}, "without https://"),
        ({"BOT_DOMAIN": "not a host"}, "not a valid host name"),
        ({"APP_VERSION": "1.0"}, "APP_VERSION must look like 1.2.3"),
    ],
)
def test_missing_or_malformed_environment_is_refused_by_name(change: dict[str, str], message: str) -> None:
    with pytest.raises(PackageError, match=re.escape(message)):
        PackageConfig.from_env({**ENV, **change})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(PackageError) as caught:
        PackageConfig.from_env({})
    assert [p.split(" ")[0] for p in caught.value.problems] == ["MicrosoftAppId", "BOT_DOMAIN"]


# ---- a broken manifest ------------------------------------------------------------------------


def test_manifest_without_bot_id_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    edit_json(teams_dir / "manifest.json", lambda m: m["bots"][0].pop("botId"))
    message = refused(teams_dir, tmp_path)
    assert "manifest.json: bots/0: 'botId' is a required property" in message


def test_unknown_placeholder_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    edit_json(teams_dir / "manifest.json", lambda m: m["bots"][0].update(botId="${{BOT_APP_ID}}"))
    assert "unknown placeholder ${{BOT_APP_ID}}" in refused(teams_dir, tmp_path)


def test_manifest_version_without_committed_schema_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    edit_json(teams_dir / "manifest.json", lambda m: m.update(manifestVersion="1.99"))
    assert "no committed schema MicrosoftTeams.schema.json for manifestVersion '1.99'" in refused(teams_dir, tmp_path)


def test_schema_url_of_another_version_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    url = "https://developer.microsoft.com/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
    edit_json(teams_dir / "manifest.json", lambda m: m.update({"$schema": url}))
    assert "is not the schema of manifestVersion '1.30'" in refused(teams_dir, tmp_path)


def test_too_many_commands_in_one_scope_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    def add(manifest: dict[str, Any]) -> None:
        commands = manifest["bots"][0]["commandLists"][0]["commands"]
        commands += [{"title": f"kommando {n}"} for n in range(len(commands), 11)]

    edit_json(teams_dir / "manifest.json", add)
    message = refused(teams_dir, tmp_path)
    assert "the personal command list has 11 commands, at most 10" in message
    assert "en: no translation of bots[0].commandLists[0].commands[10].title ('kommando 10')" in message


def test_translation_of_a_command_that_does_not_exist_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    edit_json(teams_dir / "en.json", lambda e: e.update({"bots[0].commandLists[2].commands[7].title": "stray"}))
    assert "en: bots[0].commandLists[2].commands[7].title translates a command" in refused(teams_dir, tmp_path)


def test_localization_file_is_validated_against_its_schema(teams_dir: Path, tmp_path: Path) -> None:
    edit_json(teams_dir / "en.json", lambda e: e.update({"name.shrot": "Distansstöd"}))
    assert "en.json: (top level): 'name.shrot' does not match any of the regexes" in refused(teams_dir, tmp_path)


def test_missing_icon_file_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    (teams_dir / "color.png").unlink()
    assert "icons.color names color.png, which is not in" in refused(teams_dir, tmp_path)


# ---- icons ------------------------------------------------------------------------------------


def white_on_transparent(size: int) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    image.paste((255, 255, 255, 255), (size // 4, size // 4, size // 2, size // 2))
    return image


@pytest.mark.parametrize(
    ("name", "image", "message"),
    [
        (
            "color.png",
            Image.new("RGB", (100, 100), "navy"),
            "color.png: the colour icon must be 192×192 pixels, it is 100×100",
        ),
        ("outline.png", white_on_transparent(48), "outline.png: the outline icon must be 32×32 pixels, it is 48×48"),
        ("outline.png", Image.new("RGB", (32, 32), "white"), "outline.png: the outline icon must have a transparent"),
        ("outline.png", Image.new("RGBA", (32, 32), (255, 255, 255, 255)), "no pixel is"),
        ("outline.png", Image.new("RGBA", (32, 32), (0, 0, 0, 0)), "the outline icon is fully transparent"),
    ],
)
def test_wrong_icons_are_refused(teams_dir: Path, tmp_path: Path, name: str, image: Image.Image, message: str) -> None:
    image.save(teams_dir / name, format="PNG")
    assert message in refused(teams_dir, tmp_path)


def test_coloured_outline_icon_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    image = white_on_transparent(32)
    image.putpixel((9, 9), (255, 0, 0, 255))
    image.save(teams_dir / "outline.png", format="PNG")
    assert "outline.png: the outline icon must be white only" in refused(teams_dir, tmp_path)


def test_icon_that_is_not_png_is_refused(teams_dir: Path, tmp_path: Path) -> None:
    Image.new("RGB", (192, 192), "navy").save(teams_dir / "color.png", format="JPEG")
    assert "color.png: icons must be PNG, this is JPEG" in refused(teams_dir, tmp_path)


# ---- commands ---------------------------------------------------------------------------------


async def _nothing(turn: Any, call: CommandCall) -> None:
    return None


def table_of(*commands: tuple[str, tuple[str, ...], tuple[str, ...]]) -> CommandTable:
    table = CommandTable()
    for key, sv, en in commands:
        table.add(Command(key=key, phrases={"sv": sv, "en": en}, description={"sv": key, "en": key}, handler=_nothing))
    return table


MANIFEST = {
    "localizationInfo": {"defaultLanguageTag": "sv"},
    "bots": [{"commandLists": [{"scopes": ["personal"], "commands": [{"title": "hjälp"}, {"title": "återgång"}]}]}],
}
ENGLISH = {
    "bots[0].commandLists[0].commands[0].title": "help",
    "bots[0].commandLists[0].commands[1].title": "return to office",
}
HELP = ("help", ("hjälp", "kommandon"), ("help",))
RETURN = ("return", ("återgång",), ("return to office",))


def test_titles_that_are_the_bots_phrases_pass() -> None:
    assert command_problems(MANIFEST, {"en": ENGLISH}, table_of(HELP, RETURN)) == []


def test_title_the_bot_does_not_accept_is_named() -> None:
    problems = command_problems(MANIFEST, {"en": ENGLISH}, table_of(HELP))
    assert problems == [
        "personal command 'återgång' (sv) is not a command the bot accepts",
        "personal command 'return to office' (en) is not a command the bot accepts",
    ]


def test_title_in_the_wrong_language_is_named() -> None:
    english = {**ENGLISH, "bots[0].commandLists[0].commands[0].title": "kommandon"}
    problems = command_problems(MANIFEST, {"en": english}, table_of(HELP, RETURN))
    assert problems == [
        "personal command 'kommandon' (en) is not one of the en phrases of the bot's 'help' command: help"
    ]


def test_title_with_extra_words_is_not_a_phrase() -> None:
    table = table_of(HELP, RETURN)
    takes_args = Command(
        key="remind", phrases={"sv": ("påminn",), "en": ("remind",)}, description={}, handler=_nothing, takes_args=True
    )
    table.add(takes_args)
    manifest = {**MANIFEST, "bots": [{"commandLists": [{"scopes": ["team"], "commands": [{"title": "påminn alla"}]}]}]}
    assert command_problems(manifest, {}, table) == [
        "team command 'påminn alla' (sv) is not one of the sv phrases of the bot's 'remind' command: påminn"
    ]


def test_translations_that_mean_different_commands_are_named() -> None:
    english = {**ENGLISH, "bots[0].commandLists[0].commands[1].title": "help"}
    problems = command_problems(MANIFEST, {"en": english}, table_of(HELP, RETURN))
    assert problems == [
        "personal command 2 means different commands in different languages: 'återgång' (sv) is 'return', 'help' (en) is 'help'"
    ]


def test_command_that_needs_a_role_is_named() -> None:
    table = table_of(HELP)
    table.add(
        Command(
            key="publish", phrases={"sv": ("återgång",), "en": ("return to office",)}, description={},
            handler=_nothing, role="hr",
        )
    )  # fmt: skip
    assert command_problems(MANIFEST, {"en": ENGLISH}, table) == [
        "personal command 'återgång' needs the role 'hr': the menus are the same for everyone, so they list only "
        "commands everyone may use ('hjälp' shows the rest to those who may)"
    ]


def test_every_manifest_command_is_a_real_bot_command(tmp_path: Path) -> None:
    """Waits on the features' commands (walkthroughs, lägesbild) and on bot.knowledge being importable."""
    from bot.app import build_services
    from bot.config import Settings

    services = build_services(Settings(content_dir=ROOT / "content", data_dir=tmp_path))
    manifest = json.loads((TEAMS_DIR / "manifest.json").read_text(encoding="utf-8"))
    english = json.loads((TEAMS_DIR / "en.json").read_text(encoding="utf-8"))
    assert command_problems(manifest, {"en": english}, services.bot.commands) == []
    for title in ("hjälp", "help", "ämnen", "topics"):
        call = services.bot.commands.match(title)
        assert call is not None, title


# ---- the command line -------------------------------------------------------------------------


def run_script(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "cli" / "teams-app.zip"
    clean = {k: v for k, v in os.environ.items() if k not in ("MicrosoftAppId", "TEAMS_APP_ID", "BOT_DOMAIN")}
    return subprocess.run(
        [sys.executable, str(ROOT / "deployment" / "build_app_package.py"), "--out", str(out)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_script_refuses_without_environment_and_says_why(tmp_path: Path) -> None:
    result = run_script(tmp_path, {})
    assert result.returncode == 2
    assert "cannot build the Teams app package" in result.stderr
    assert "MicrosoftAppId is not set" in result.stderr
    assert not (tmp_path / "cli").exists()


def test_script_builds_the_package_from_the_environment(tmp_path: Path) -> None:
    """Also runs the command check when the bot can be built, so it waits on the same work as the test above."""
    result = run_script(tmp_path, ENV)
    assert result.returncode == 0, result.stderr
    assert "developer.websiteUrl is still the placeholder" in result.stderr
    with zipfile.ZipFile(tmp_path / "cli" / "teams-app.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == BOT_ID
