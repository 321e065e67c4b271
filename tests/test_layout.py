"""The tree reads as the message flows, and no module imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every project module with the project modules it imports anywhere (type-only imports too)."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module)
                    names.update(f"{node.module}.{alias.name}" for alias in node.names)
                elif isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
            found[_module_name(path)] = {n for n in names if n.split(".")[0] in PACKAGES}
    return {module: {n for n in names if n in found and n != module} for module, names in found.items()}


def test_no_module_imports_one_that_imports_it_back() -> None:
    imports = _imports()
    cycles = sorted({tuple(sorted((a, b))) for a, targets in imports.items() for b in targets if a in imports[b]})
    assert not cycles, cycles


def test_the_import_checker_sees_a_cycle(tmp_path: Path) -> None:
    """The check above would fail on the cycle this refactoring removed (connector_pool <-> pooled_conversations)."""
    imports = _imports()
    imports["bot.transport.pooled_conversations"].add("bot.transport.connector_pool")
    cycles = {(a, b) for a, targets in imports.items() for b in targets if a in imports[b]}
    assert ("bot.transport.connector_pool", "bot.transport.pooled_conversations") in cycles


def test_transport_knows_nothing_of_the_conversation() -> None:
    """The Bot Connector layer sits below the bot: it never imports the conversation or the features."""
    imports = _imports()
    upward = ("bot.conversation", "bot.knowledge", "bot.broadcast", "dialogs")
    offenders = {
        (module, target)
        for module, targets in imports.items()
        if module.startswith("bot.transport")
        for target in targets
        if target.startswith(upward)
    }
    assert not offenders, offenders


def test_tests_mirror_the_source_tree() -> None:
    for package in ("transport", "conversation", "storage", "knowledge", "broadcast"):
        assert (ROOT / "bot" / package).is_dir(), package
        assert list((ROOT / "tests" / package).glob("test_*.py")), f"tests/{package} has no tests"
