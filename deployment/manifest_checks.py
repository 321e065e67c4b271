"""Checks for the Teams app package, so a broken package is refused here and not by Teams after upload.

Each check returns a list of problems (plain sentences naming the file and field) instead of raising, so one run
reports everything that is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import regex
from jsonschema import ValidationError
from jsonschema.validators import extend, validator_for
from PIL import Image, UnidentifiedImageError
from referencing import Registry
from referencing.exceptions import Unresolvable

SCHEMA_DIR = Path(__file__).resolve().parent / "teams" / "schema"
MANIFEST_SCHEMA = "MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = "MicrosoftTeams.Localization.schema.json"
MAX_COMMANDS = 10  # what the Teams client shows per scope (the 1.30 schema itself allows 12)
COLOR_SIZE = (192, 192)
OUTLINE_SIZE = (32, 32)
PLACEHOLDER_HOST = "kommun.example"  # the template's developer URLs; a deployer must replace them


class PackageError(ValueError):
    """The package cannot be built; `problems` says everything that is wrong, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"- {p}" for p in problems))


class CommandMatch(Protocol):
    @property
    def command(self) -> Any: ...


class CommandTable(Protocol):
    """What the check needs from bot.conversation.commands.CommandTable."""

    def match(self, text: str) -> CommandMatch | None: ...


# ---- the official JSON schema ----------------------------------------------------------------


def load_schema(manifest_version: str, name: str = MANIFEST_SCHEMA) -> dict[str, Any]:
    """The committed schema for this manifest version; raises PackageError when it is not committed."""
    path = SCHEMA_DIR / f"v{manifest_version}" / name
    if not path.is_file():
        have = sorted(p.name for p in SCHEMA_DIR.iterdir() if p.is_dir())
        raise PackageError(
            [f"no committed schema {name} for manifestVersion {manifest_version!r} (committed: {', '.join(have)})"]
        )
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _no_download(uri: str) -> Any:
    raise LookupError(f"{uri} is not committed, and validation never downloads anything")


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """`pattern` with the `regex` module: the schemas use ECMA-262 classes such as \\p{L} that `re` lacks."""
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def schema_problems(document: Any, schema: dict[str, Any], label: str) -> list[str]:
    """Validate with the JSON Schema draft that the schema itself declares (draft-04 for Teams)."""
    declared = validator_for(schema)
    # The meta-schema check without formats: its `regex` format would compile ECMA patterns with `re`.
    declared(declared.META_SCHEMA).validate(schema)
    validator_cls = extend(declared, {"pattern": _ecma_pattern})
    validator = validator_cls(
        schema,
        registry=Registry(retrieve=_no_download),  # type: ignore[call-arg]
        format_checker=validator_cls.FORMAT_CHECKER,
    )
    try:
        errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    except Unresolvable as exc:
        return [f"{label}: the schema refers to {exc.ref}, which is not committed (validation never downloads)"]
    problems = []
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        message = error.message if len(error.message) <= 240 else error.message[:240] + " …"
        problems.append(f"{label}: {where}: {message}")
    return problems


def schema_url_problems(manifest: Mapping[str, Any]) -> list[str]:
    """`$schema` must name the same version as `manifestVersion`, or editors validate against another one."""
    version = manifest.get("manifestVersion")
    url = manifest.get("$schema", "")
    if isinstance(url, str) and f"/v{version}/" not in url:
        return [f"manifest.json: $schema {url!r} is not the schema of manifestVersion {version!r}"]
    return []


# ---- icons -----------------------------------------------------------------------------------


def icon_problems(color: Path, outline: Path) -> list[str]:
    """Teams' rules: a 192×192 colour PNG and a 32×32 outline PNG that is white on transparent."""
    problems: list[str] = []
    color_image = _open_png(color, problems)
    if color_image is not None and color_image.size != COLOR_SIZE:
        problems.append(f"{color.name}: the colour icon must be 192×192 pixels, it is {_size(color_image)}")
    outline_image = _open_png(outline, problems)
    if outline_image is None:
        return problems
    if outline_image.size != OUTLINE_SIZE:
        problems.append(f"{outline.name}: the outline icon must be 32×32 pixels, it is {_size(outline_image)}")
    if not _has_alpha(outline_image):
        problems.append(f"{outline.name}: the outline icon must have a transparent background (no alpha channel)")
        return problems
    rgba = outline_image.convert("RGBA").tobytes()
    pixels = [rgba[i : i + 4] for i in range(0, len(rgba), 4)]
    visible = [p for p in pixels if p[3] > 0]
    if not visible:
        problems.append(f"{outline.name}: the outline icon is fully transparent")
    elif any(p[:3] != b"\xff\xff\xff" for p in visible):
        problems.append(f"{outline.name}: the outline icon must be white only; it has coloured pixels")
    if len(visible) == len(pixels):
        problems.append(f"{outline.name}: the outline icon must have a transparent background; no pixel is")
    return problems


def _open_png(path: Path, problems: list[str]) -> Image.Image | None:
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        problems.append(f"{path.name}: the icon file is missing")
        return None
    except (UnidentifiedImageError, OSError) as exc:
        problems.append(f"{path.name}: not a readable image ({exc})")
        return None
    if image.format != "PNG":
        problems.append(f"{path.name}: icons must be PNG, this is {image.format}")
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _size(image: Image.Image) -> str:
    return f"{image.width}×{image.height}"


# ---- command lists ---------------------------------------------------------------------------


def _command_key(list_index: int, command_index: int, field: str) -> str:
    return f"bots[0].commandLists[{list_index}].commands[{command_index}].{field}"


_LOCALIZED_COMMAND = re.compile(r"^bots\[0\]\.commandLists\[(\d+)\]\.commands\[(\d+)\]\.(title|description)$")


def _command_lists(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    bots = manifest.get("bots") or [{}]
    lists = bots[0].get("commandLists") or []
    return [c for c in lists if isinstance(c, dict)]


def command_list_problems(manifest: Mapping[str, Any], localizations: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Shape rules the schema does not express: list sizes, duplicates, complete and pointing translations."""
    problems: list[str] = []
    lists = _command_lists(manifest)
    for i, command_list in enumerate(lists):
        scopes = "/".join(command_list.get("scopes", []))
        commands = command_list.get("commands", [])
        if len(commands) > MAX_COMMANDS:
            problems.append(f"manifest.json: the {scopes} command list has {len(commands)} commands, at most 10")
        titles = [c.get("title", "") for c in commands]
        for title in sorted({t for t in titles if titles.count(t) > 1}):
            problems.append(f"manifest.json: the {scopes} command list has {title!r} twice")
        for tag, strings in localizations.items():
            for j in range(len(commands)):
                if _command_key(i, j, "title") not in strings:
                    problems.append(f"{tag}: no translation of {_command_key(i, j, 'title')} ({titles[j]!r})")
    for tag, strings in localizations.items():
        for key in strings:
            found = _LOCALIZED_COMMAND.match(key)
            if found:
                i, j = int(found[1]), int(found[2])
                if i >= len(lists) or j >= len(lists[i].get("commands", [])):
                    problems.append(f"{tag}: {key} translates a command that manifest.json does not have")
    return problems


def command_problems(
    manifest: Mapping[str, Any], localizations: Mapping[str, Mapping[str, Any]], table: CommandTable
) -> list[str]:
    """Every command title, in every language, must be exactly a phrase the bot accepts in that language.

    Teams sends the title as the message text, so a title the bot does not know would be answered as a question.
    The titles of one command in the different languages must also lead to the same bot command, and that command
    must be open to everyone, since every user sees the same menus.
    """
    from bot.conversation.commands import normalize_command_text

    default_tag = manifest.get("localizationInfo", {}).get("defaultLanguageTag", "en")
    problems: list[str] = []
    for i, command_list in enumerate(_command_lists(manifest)):
        scopes = "/".join(command_list.get("scopes", []))
        for j, command in enumerate(command_list.get("commands", [])):
            titles = {default_tag: command.get("title", "")}
            for tag, strings in localizations.items():
                if isinstance(strings.get(_command_key(i, j, "title")), str):
                    titles[tag] = strings[_command_key(i, j, "title")]
            keys: dict[str, str] = {}
            for tag, title in titles.items():
                lang = tag.split("-")[0].lower()
                call = table.match(title)
                if call is None:
                    problems.append(f"{scopes} command {title!r} ({tag}) is not a command the bot accepts")
                    continue
                phrases = call.command.phrases.get(lang, ())
                if normalize_command_text(title) not in phrases:
                    problems.append(
                        f"{scopes} command {title!r} ({tag}) is not one of the {lang} phrases of the bot's "
                        f"{call.command.key!r} command: {', '.join(phrases) or 'none'}"
                    )
                    continue
                keys[tag] = call.command.key
                role = getattr(call.command, "role", None)
                if role and tag == default_tag:
                    problems.append(
                        f"{scopes} command {title!r} needs the role {role!r}: the menus are the same for everyone, "
                        "so they list only commands everyone may use ('hjälp' shows the rest to those who may)"
                    )
            if len(set(keys.values())) > 1:
                named = ", ".join(f"{titles[t]!r} ({t}) is {k!r}" for t, k in keys.items())
                problems.append(f"{scopes} command {j + 1} means different commands in different languages: {named}")
    return problems


# ---- what the deployer must change -------------------------------------------------------------


def placeholder_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """The template's developer URLs are placeholders; Teams accepts them, people should not see them."""
    developer = manifest.get("developer", {})
    return [
        f"developer.{field} is still the placeholder {developer[field]!r}: "
        "change it in deployment/teams/manifest.json before publishing the app"
        for field in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
        if PLACEHOLDER_HOST in str(developer.get(field, ""))
    ]
