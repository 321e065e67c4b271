"""Builds the Teams app package (a zip to upload in Teams) from deployment/teams/ and the environment.

    MicrosoftAppId=<bot app id> BOT_DOMAIN=<host name> python deployment/build_app_package.py

Reads MicrosoftAppId (the bot's Entra app or managed identity client id), TEAMS_APP_ID (the Teams app's own GUID;
defaults to MicrosoftAppId), BOT_DOMAIN (the bot's host name, for validDomains) and APP_VERSION (default 1.0.0;
raise it for every update you upload). The filled manifest is validated against the committed official schema,
the icons are checked, and every command title must be a phrase the bot really accepts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `deployment` and `bot` importable
    sys.path.insert(0, str(ROOT))

from deployment.manifest_checks import (  # noqa: E402
    LOCALIZATION_SCHEMA,
    CommandTable,
    PackageError,
    command_list_problems,
    command_problems,
    icon_problems,
    load_schema,
    placeholder_warnings,
    schema_problems,
    schema_url_problems,
)

TEAMS_DIR = ROOT / "deployment" / "teams"
DEFAULT_OUT = ROOT / "deployment" / "build" / "teams-app.zip"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", re.IGNORECASE)
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same input gives the same zip


@dataclass(frozen=True)
class PackageConfig:
    """The values filled into the manifest template."""

    bot_id: str
    teams_app_id: str
    bot_domain: str
    version: str = "1.0.0"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PackageConfig:
        """Read and check the environment; raises PackageError naming every missing or malformed value."""
        env = os.environ if env is None else env
        problems: list[str] = []
        bot_id = env.get("MicrosoftAppId", "").strip()
        teams_app_id = env.get("TEAMS_APP_ID", "").strip() or bot_id
        bot_domain = env.get("BOT_DOMAIN", "").strip()
        version = env.get("APP_VERSION", "").strip() or "1.0.0"
        if not bot_id:
            problems.append(
                "MicrosoftAppId is not set: the bot's Entra application (client) id, a GUID "
                "(for MicrosoftAppType=UserAssignedMSI the managed identity's client id)"
            )
        elif not GUID.match(bot_id):
            problems.append(f"MicrosoftAppId must be a GUID like 00000000-0000-0000-0000-000000000000, got {bot_id!r}")
        if teams_app_id and teams_app_id != bot_id and not GUID.match(teams_app_id):
            problems.append(f"TEAMS_APP_ID must be a GUID (or unset to use MicrosoftAppId), got {teams_app_id!r}")
        if not bot_domain:
            problems.append("BOT_DOMAIN is not set: the host name the bot is served on, e.g. distansstod.kommun.se")
        elif bot_domain.lower().startswith(("http://", "https://")) or "/" in bot_domain:
            problems.append(f"BOT_DOMAIN must be a host name only, without https:// or a path, got {bot_domain!r}")
        elif not HOST.match(bot_domain):
            problems.append(f"BOT_DOMAIN is not a valid host name: {bot_domain!r}")
        if not SEMVER.match(version):
            problems.append(f"APP_VERSION must look like 1.2.3, got {version!r}")
        if problems:
            raise PackageError(problems)
        return cls(bot_id=bot_id, teams_app_id=teams_app_id, bot_domain=bot_domain, version=version)

    def placeholders(self) -> dict[str, str]:
        return {
            "TEAMS_APP_ID": self.teams_app_id,
            "BOT_ID": self.bot_id,
            "BOT_DOMAIN": self.bot_domain,
            "APP_VERSION": self.version,
        }


def fill_template(template: Any, values: Mapping[str, str]) -> Any:
    """Replace ${{NAME}} in every string of the template; an unknown name is an error, not an empty string."""
    if isinstance(template, dict):
        return {k: fill_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_template(v, values) for v in template]
    if isinstance(template, str):

        def replace(found: re.Match[str]) -> str:
            if found[1] not in values:
                raise PackageError([f"manifest.json: unknown placeholder {found[0]} (known: {', '.join(values)})"])
            return values[found[1]]

        return PLACEHOLDER.sub(replace, template)
    return template


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PackageError([f"{path.name}: file not found in {path.parent}"]) from exc
    except json.JSONDecodeError as exc:
        raise PackageError([f"{path.name}: not valid JSON: {exc}"]) from exc


def _package_file(teams_dir: Path, name: Any, field: str, problems: list[str]) -> Path | None:
    """A file the manifest names; it must sit beside manifest.json, because the zip has no folders."""
    if not isinstance(name, str) or not name or Path(name).name != name:
        problems.append(f"manifest.json: {field} must be a file name beside manifest.json, got {name!r}")
        return None
    path = teams_dir / name
    if not path.is_file():
        problems.append(f"manifest.json: {field} names {name}, which is not in {teams_dir}")
        return None
    return path


def check_package(
    manifest: dict[str, Any], teams_dir: Path, commands: CommandTable | None = None
) -> tuple[list[Path], list[str]]:
    """The files that go into the zip beside manifest.json, and every problem with the filled manifest."""
    problems = schema_problems(manifest, load_schema(str(manifest.get("manifestVersion"))), "manifest.json")
    problems += schema_url_problems(manifest)
    icons = manifest.get("icons") or {}
    color = _package_file(teams_dir, icons.get("color"), "icons.color", problems)
    outline = _package_file(teams_dir, icons.get("outline"), "icons.outline", problems)
    if color and outline:
        problems += icon_problems(color, outline)
    files = [p for p in (color, outline) if p]
    localizations: dict[str, dict[str, Any]] = {}
    info = manifest.get("localizationInfo") or {}
    localization_schema = load_schema(str(manifest.get("manifestVersion")), LOCALIZATION_SCHEMA)
    for n, language in enumerate(info.get("additionalLanguages") or []):
        path = _package_file(
            teams_dir, language.get("file"), f"localizationInfo.additionalLanguages[{n}].file", problems
        )
        if path is None:
            continue
        strings = _read_json(path)
        problems += schema_problems(strings, localization_schema, path.name)
        localizations[str(language.get("languageTag"))] = strings
        files.append(path)
    problems += command_list_problems(manifest, localizations)
    if commands is not None:
        problems += command_problems(manifest, localizations, commands)
    return files, problems


def build_package(
    config: PackageConfig,
    out: Path = DEFAULT_OUT,
    *,
    teams_dir: Path = TEAMS_DIR,
    commands: CommandTable | None = None,
) -> Path:
    """Fill, check and zip; raises PackageError with every problem, and writes nothing then."""
    manifest = fill_template(_read_json(teams_dir / "manifest.json"), config.placeholders())
    files, problems = check_package(manifest, teams_dir, commands)
    if problems:
        raise PackageError(problems)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        archive.writestr(zipfile.ZipInfo("manifest.json", ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
        for path in files:
            archive.writestr(zipfile.ZipInfo(path.name, ZIP_TIME), path.read_bytes(), zipfile.ZIP_DEFLATED)
    return out


def bot_commands(content_dir: Path) -> CommandTable:
    """The bot's real command table, built the way the service builds it (raises ImportError without the bot)."""
    from bot.app import build_services
    from bot.config import Settings
    from bot.content_errors import ContentError

    with tempfile.TemporaryDirectory() as data_dir:
        try:
            services = build_services(Settings(content_dir=content_dir, data_dir=Path(data_dir)))
        except ContentError as exc:
            raise PackageError(
                [f"the bot's content in {content_dir} is invalid, so its commands are unknown: {exc}"]
            ) from exc
        return services.bot.commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Teams app package from deployment/teams/.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the zip to write (default {DEFAULT_OUT})")
    parser.add_argument("--teams-dir", type=Path, default=TEAMS_DIR, help="the manifest template and its files")
    args = parser.parse_args(argv)
    try:
        config = PackageConfig.from_env()
        commands: CommandTable | None
        try:
            content_dir = Path(os.environ.get("CONTENT_DIR", "").strip() or ROOT / "content")
            commands = bot_commands(content_dir)
        except ImportError as exc:
            print(f"warning: the command check was skipped, the bot cannot be imported here: {exc}", file=sys.stderr)
            commands = None
        out = build_package(config, args.out, teams_dir=args.teams_dir, commands=commands)
    except PackageError as exc:
        print(f"cannot build the Teams app package:\n{exc}", file=sys.stderr)
        return 2
    for warning in placeholder_warnings(_read_json(args.teams_dir / "manifest.json")):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {out} (Teams app {config.teams_app_id}, bot {config.bot_id}, version {config.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
