"""The container recipe, checked without a Docker engine: instructions, user, volume, requirements, health check.

`docker build` and `docker run` are not run here (no engine on this machine); see deployment/README.md.
"""

from __future__ import annotations

import ast
import asyncio
import fnmatch
import json
import os
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deployment" / "Dockerfile"
KNOWN = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


@dataclass(frozen=True)
class Instruction:
    name: str
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array form (`CMD ["python", "-m", "bot"]`), which runs without a shell."""
        value = json.loads(self.args)
        assert isinstance(value, list), self.args
        assert all(isinstance(v, str) for v in value), self.args
        return value


def parse_dockerfile(text: str) -> list[Instruction]:
    """Docker's line rules: `#` comments, `\\` continues a line, the first word is the instruction."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        name, _, args = (pending + line).partition(" ")
        instructions.append(Instruction(name.upper(), args.strip()))
        pending = ""
    if pending:
        raise ValueError(f"the last instruction continues past the end of the file: {pending!r}")
    return instructions


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def only(instructions: list[Instruction], name: str) -> Instruction:
    found = [i for i in instructions if i.name == name]
    assert len(found) == 1, f"expected one {name}, found {len(found)}"
    return found[0]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in instructions:
        if instruction.name == "ENV":
            for part in shlex.split(instruction.args):
                key, _, value = part.partition("=")
                env[key] = value
    return env


def healthcheck_command(instructions: list[Instruction]) -> list[str]:
    options, _, command = only(instructions, "HEALTHCHECK").args.partition("CMD ")
    assert all(o.startswith("--") for o in options.split()), options
    return Instruction("CMD", command).exec_form()


# ---- the recipe -------------------------------------------------------------------------------


def test_dockerfile_parses_into_known_instructions(dockerfile: list[Instruction]) -> None:
    assert dockerfile[0].name == "FROM"
    assert {i.name for i in dockerfile} <= KNOWN
    assert parse_dockerfile("FROM a\nRUN one \\\n  # comment\n  two\n") == [
        Instruction("FROM", "a"),
        Instruction("RUN", "one two"),
    ]
    with pytest.raises(ValueError, match="continues past the end"):
        parse_dockerfile("FROM a\nRUN one \\\n")


def test_base_image_is_python_311_slim(dockerfile: list[Instruction]) -> None:
    image = only(dockerfile, "FROM").args.split()[0]
    assert image.startswith("python:3.11-slim"), image


def test_runs_as_a_non_root_user_created_in_the_image(dockerfile: list[Instruction]) -> None:
    users = [i.args for i in dockerfile if i.name == "USER"]
    assert users, "no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    uid = user if user.isdigit() else None
    creates = [i.args for i in dockerfile if i.name == "RUN" and "useradd" in i.args]
    assert creates, "the user is created in the image"
    assert uid is None or f"--uid {uid}" in creates[0], creates


def test_data_dir_is_a_volume_owned_by_the_user(dockerfile: list[Instruction]) -> None:
    env = env_of(dockerfile)
    volume = only(dockerfile, "VOLUME")
    volumes = volume.exec_form() if volume.args.startswith("[") else volume.args.split()
    assert env["DATA_DIR"] in volumes
    user = [i.args for i in dockerfile if i.name == "USER"][-1]
    assert any(f"chown {user} {env['DATA_DIR']}" in i.args for i in dockerfile if i.name == "RUN")


def test_listens_on_all_interfaces_on_the_exposed_port(dockerfile: list[Instruction]) -> None:
    env = env_of(dockerfile)
    assert env["HOST"] == "0.0.0.0"
    assert only(dockerfile, "EXPOSE").args.split() == [env["PORT"]] == ["3978"]


def test_installs_the_locked_requirements_that_ci_installs(dockerfile: list[Instruction]) -> None:
    copies = [i.args.split() for i in dockerfile if i.name == "COPY"]
    assert ["requirements.txt", "./"] in copies
    installs = [i.args for i in dockerfile if i.name == "RUN" and "pip install" in i.args]
    assert installs == ["pip install --no-cache-dir --require-hashes -r requirements.txt"]
    # The lock itself (every package pinned, with hashes) is checked in tests/test_dependencies.py.
    # CI: .ci/run -> scripts/test.sh -> scripts/setup.sh --dev -> the dev lock, held to the runtime lock's versions.
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "setup.sh --dev" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "requirements-dev.txt" in setup
    assert "--require-hashes" in setup


def test_copies_every_top_level_package_the_bot_imports(dockerfile: list[Instruction]) -> None:
    copied = {i.args.split()[0].rstrip("/") for i in dockerfile if i.name == "COPY"}
    local = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    imported = set()
    for package in copied & local:
        for source in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
    assert {"bot", "dialogs"} <= copied
    assert (imported & local) <= copied, f"imported but not copied into the image: {(imported & local) - copied}"
    assert "content" in copied
    for name in copied:
        assert (ROOT / name).exists(), name


def test_serves_with_the_same_entry_point_as_python_m_bot(dockerfile: list[Instruction]) -> None:
    assert not [i for i in dockerfile if i.name == "ENTRYPOINT"]
    assert only(dockerfile, "CMD").exec_form() == ["python", "-m", "bot"]
    assert (ROOT / "bot" / "__main__.py").is_file()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


# ---- .dockerignore ----------------------------------------------------------------------------


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase(c, bare) or fnmatch.fnmatchcase("/" + c, "/" + bare) for c in candidates):
            ignored = not negated
    return ignored


def test_dockerignore_lets_in_only_what_the_image_needs(dockerfile: list[Instruction]) -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for instruction in dockerfile:
        if instruction.name == "COPY":
            source = instruction.args.split()[0].rstrip("/")
            inside = next((ROOT / source).rglob("*.py"), ROOT / source) if (ROOT / source).is_dir() else ROOT / source
            assert not dockerignored(inside.relative_to(ROOT).as_posix(), patterns), source
    for secret_or_state in (".env", ".git/config", ".venv/bin/python", "data/bot.sqlite3", "deployment/build/x.zip"):
        assert dockerignored(secret_or_state, patterns), secret_or_state
    assert dockerignored("bot/__pycache__/app.cpython-311.pyc", patterns)


# ---- the health check -------------------------------------------------------------------------


async def run_healthcheck(command: list[str], port: int) -> int:
    """The image's exact HEALTHCHECK command, with this interpreter standing in for the image's `python`."""
    assert command[0] == "python"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:],
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), timeout=30)


async def serve(app: web.Application) -> AsyncIterator[int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def test_healthcheck_uses_only_the_standard_library(dockerfile: list[Instruction]) -> None:
    command = healthcheck_command(dockerfile)
    assert command[:2] == ["python", "-c"]
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(command[2]))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert modules
    assert modules <= sys.stdlib_module_names, modules
    assert "'3978'" in command[2], "defaults to the exposed port"


async def test_healthcheck_passes_against_the_running_bot(dockerfile: list[Instruction], tmp_path: Path) -> None:
    from bot.app import create_app
    from bot.config import Settings

    app = create_app(Settings(content_dir=ROOT / "content", data_dir=tmp_path))
    async for port in serve(app):
        assert await run_healthcheck(healthcheck_command(dockerfile), port) == 0


async def test_healthcheck_fails_when_the_bot_is_not_ready(dockerfile: list[Instruction]) -> None:
    async def unavailable(request: web.Request) -> web.Response:
        return web.json_response({"status": "unavailable"}, status=503)

    app = web.Application()
    app.router.add_get("/healthz", unavailable)
    async for port in serve(app):
        assert await run_healthcheck(healthcheck_command(dockerfile), port) == 1


async def test_healthcheck_fails_when_nothing_listens(dockerfile: list[Instruction]) -> None:
    async for port in serve(web.Application()):
        free = port
    assert await run_healthcheck(healthcheck_command(dockerfile), free) == 1
