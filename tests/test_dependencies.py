"""Every third-party module the code imports is declared in pyproject.toml, and the locks hold what it declares.

An undeclared import works only while some other package happens to pull its distribution in (PyJWT, isodate,
requests, multidict and yarl did); the next upgrade of that package can take it away.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCAL = {"bot", "dialogs", "deployment", "tests", "bench"}
# Used without an import of their own: SQLAlchemy loads the drivers from the URL, zoneinfo reads tzdata's files.
USED_WITHOUT_IMPORT = {"aiosqlite", "asyncpg", "tzdata"}


def _names(requirements: Iterable[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements} - {"distansstod"}


RUNTIME = _names(PYPROJECT["project"]["dependencies"])
EXTRAS = {extra: _names(reqs) for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
# Which declared set each tree may import from.
ALLOWED = {
    "bot": RUNTIME | EXTRAS["calibrate"],  # only bot/knowledge/calibration.py, inside functions (a test below)
    "dialogs": RUNTIME,
    "deployment": RUNTIME | EXTRAS["deploy"],
    "bench": RUNTIME | EXTRAS["dev"] | EXTRAS["deploy"],
    "tests": RUNTIME | EXTRAS["dev"] | EXTRAS["deploy"],
}


def imported_modules(tree: str) -> set[str]:
    """Absolute imports anywhere in the tree's files (inside functions too), stdlib and local ones left out."""
    found: set[str] = set()
    for path in (ROOT / tree).rglob("*.py"):
        in_file: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                in_file.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                in_file.add(node.module)
        siblings = {p.stem for p in path.parent.glob("*.py")}  # bench scripts import each other
        found |= {m for m in in_file if m.split(".")[0] not in siblings}
    return {m for m in found if m.split(".")[0] not in LOCAL | set(sys.stdlib_module_names) | {"__future__"}}


@cache
def _module_owners() -> dict[str, set[str]]:
    """Dotted module (package) name -> distributions whose files hold it; namespace packages such as
    `botbuilder` are shared, so a top-level name alone cannot say which distribution an import needs."""
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            module = [*parts[:-1], re.sub(r"\..*$", "", parts[-1])]
            for depth in range(1, len(module) + 1):
                owners.setdefault(".".join(module[:depth]), set()).add(name)
    return owners


def distributions_of(module: str) -> set[str]:
    """The distributions that provide `module`: the most specific package path any of them installs."""
    owners = _module_owners()
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        found = owners.get(".".join(parts[:depth]))
        if found:
            return found
    top = metadata.packages_distributions().get(parts[0], [])
    return {canonicalize_name(d) for d in top}


@pytest.mark.parametrize("tree", sorted(ALLOWED))
def test_every_third_party_import_is_declared(tree: str) -> None:
    missing = {}
    for module in sorted(imported_modules(tree)):
        dists = distributions_of(module)
        assert dists, f"{module} (imported in {tree}/) is not installed"
        if not dists & ALLOWED[tree]:
            missing[module] = sorted(dists)
    assert not missing, f"imported in {tree}/ but not declared in pyproject.toml: {missing}"


def test_every_runtime_dependency_is_used() -> None:
    """A declared dependency nothing imports is one a maintainer keeps upgrading for nothing."""
    used = set(USED_WITHOUT_IMPORT)
    for tree in ("bot", "dialogs"):
        for module in imported_modules(tree):
            used |= distributions_of(module)
    assert RUNTIME - used == set()


def test_the_checker_sees_an_undeclared_import() -> None:
    """The check above would have caught PyJWT, imported by bot/transport/fast_auth.py, before it was declared."""
    assert "jwt" in imported_modules("bot")
    assert distributions_of("jwt") == {"pyjwt"}
    assert distributions_of("botbuilder.integration.aiohttp") == {"botbuilder-integration-aiohttp"}


def read_lock(name: str) -> dict[str, tuple[Version, int]]:
    """Package -> (version, number of hashes) from a lock written by scripts/lock.sh."""
    text = (ROOT / name).read_text(encoding="utf-8")
    locked: dict[str, tuple[Version, int]] = {}
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith(("#", "-")) or not block.strip():
            continue
        requirement = block.split(" \\")[0].split(" ;")[0].strip()
        name_part, _, version = requirement.partition("==")
        assert version, f"{name}: not pinned: {requirement}"
        locked[canonicalize_name(name_part)] = (Version(version), block.count("--hash=sha256:"))
    return locked


@pytest.mark.parametrize(("lock", "declared"), [("requirements.txt", "runtime"), ("requirements-dev.txt", "dev")])
def test_the_locks_pin_every_package_with_hashes_and_meet_pyproject(lock: str, declared: str) -> None:
    locked = read_lock(lock)
    unhashed = sorted(name for name, (_, hashes) in locked.items() if hashes == 0)
    assert not unhashed, f"{lock}: packages without hashes: {unhashed}"
    requirements = list(PYPROJECT["project"]["dependencies"])
    if declared == "dev":
        for extra in ("dev", "deploy"):
            requirements += PYPROJECT["project"]["optional-dependencies"][extra]
    for raw in requirements:
        requirement = Requirement(raw)
        name = canonicalize_name(requirement.name)
        if name == "distansstod":
            continue
        assert name in locked, f"{lock} lacks {name}: run bash scripts/lock.sh"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (
            f"{lock} has {name}=={locked[name][0]}, pyproject.toml wants {requirement.specifier}: run bash scripts/lock.sh"
        )


def test_the_dev_lock_runs_the_runtime_locks_versions() -> None:
    """Tests run what the container runs."""
    runtime, dev = read_lock("requirements.txt"), read_lock("requirements-dev.txt")
    assert set(runtime) <= set(dev)
    assert {name: dev[name][0] for name in runtime} == {name: version for name, (version, _) in runtime.items()}


def test_psycopg_is_gone() -> None:
    """APScheduler's shared job store was its only user; asyncpg is the one PostgreSQL driver."""
    assert "psycopg" not in read_lock("requirements-dev.txt")


def test_the_console_script_is_python_m_bot() -> None:
    assert PYPROJECT["project"]["scripts"] == {"distansstod": "bot.cli:main"}
    assert "from bot.cli import main" in (ROOT / "bot" / "__main__.py").read_text(encoding="utf-8")


def test_the_wheel_holds_every_package_and_content_folder() -> None:
    """`pip install .` ships what pyproject.toml lists: a new package or content folder must be listed too (an
    installed `distansstod` reads its content from bot/content, see bot/config.py)."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    code = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for tree in ("bot", "dialogs")
        for path in (ROOT / tree).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    content = {
        ".".join(("bot", "content", *path.relative_to(ROOT / "content").parts))
        for path in [ROOT / "content", *(p for p in (ROOT / "content").rglob("*") if p.is_dir())]
    }
    assert listed == code | content
    assert setuptools["package-dir"] == {"bot.content": "content"}
    for package in content:
        assert setuptools["package-data"][package] == ["*.yaml"], package
    assert {p.suffix for p in (ROOT / "content").rglob("*") if p.is_file()} == {".yaml"}
    assert setuptools["package-data"]["bot.storage.migrations"] == ["script.py.mako"]


def test_serving_never_needs_the_calibration_tools() -> None:
    """scikit-learn is a development dependency: only calibration.py imports it, and only inside functions, so
    the service and every other command run from the runtime lock alone."""
    calibration_only = {canonicalize_name(n) for n in EXTRAS["calibrate"]}
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else []
            )
            for name in names:
                if distributions_of(name) & calibration_only:
                    assert path.name == "calibration.py", path
                    assert node not in tree.body, f"{path}: import {name} at module level"
