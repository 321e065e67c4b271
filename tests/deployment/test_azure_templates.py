"""The Bicep template, checked as far as this machine allows: `az bicep build` cannot run here (no Azure CLI and
no Bicep compiler in the reachable registries), so the file is parsed with pycep-parser (a Python Bicep grammar)
and its structure is checked: brackets, every param and var used, API versions, secrets, and that the container
gets exactly the settings the bot reads.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser
from sqlalchemy.engine import make_url

from tests.deployment.bicep_source import code_only, declarations, decorators_of, unbalanced

ROOT = Path(__file__).resolve().parents[2]
AZURE = ROOT / "deployment" / "azure"
SOURCE = (AZURE / "main.bicep").read_text(encoding="utf-8")
CODE = code_only(SOURCE)
DECLARATIONS = declarations(CODE)
BY_NAME = {(d.kind, d.name): d for d in DECLARATIONS}
PARAMS = [d.name for d in DECLARATIONS if d.kind == "param"]
SECURE = {name for name in PARAMS if "@secure()" in decorators_of(SOURCE, name)}
SETTINGS_ENV = {
    "MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId", "HOST", "PORT",
    "DATA_DIR", "DATABASE_URL", "LOG_LEVEL", "TIMEZONE",
}  # fmt: skip


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    tree: dict[str, Any] = dict(BicepParser(cache=False).parse(text=SOURCE))
    return tree


def test_a_bicep_grammar_accepts_the_template(parsed: dict[str, Any]) -> None:
    assert set(parsed["parameters"]) == set(PARAMS)
    assert set(parsed["resources"]) == {d.name for d in DECLARATIONS if d.kind == "resource"}
    assert set(parsed["outputs"]) == {d.name for d in DECLARATIONS if d.kind == "output"}


def test_brackets_balance_outside_strings_and_comments() -> None:
    assert unbalanced(CODE) is None
    assert unbalanced(code_only("var a = '}' // {\nvar b = [\n")) == "'[' opened at line 2 is never closed"
    assert code_only("var s = 'a ${b} c' // d") == "var s = '  ${b}  '     "


def test_every_param_and_var_is_used() -> None:
    used: set[str] = set()
    for declaration in DECLARATIONS:
        used |= declaration.references() - {declaration.name}
    unused = [d.name for d in DECLARATIONS if d.kind in ("param", "var") and d.name not in used]
    assert unused == []


def test_every_resource_names_a_stable_api_version(parsed: dict[str, Any]) -> None:
    for name, resource in parsed["resources"].items():
        assert re.fullmatch(r"[A-Za-z]+\.[A-Za-z]+/[A-Za-z/]+", resource["type"]), name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", resource["api_version"]), f"{name}: {resource['api_version']}"


def test_the_deployment_has_the_bot_teams_hosting_logs_and_database(parsed: dict[str, Any]) -> None:
    types = {r["type"] for r in parsed["resources"].values()}
    assert {
        "Microsoft.BotService/botServices",
        "Microsoft.BotService/botServices/channels",
        "Microsoft.App/managedEnvironments",
        "Microsoft.App/containerApps",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.DBforPostgreSQL/flexibleServers/databases",
    } <= types
    teams = next(r for r in parsed["resources"].values() if r["type"].endswith("/channels"))
    assert teams["config"]["name"] == teams["config"]["properties"]["channelName"] == "MsTeamsChannel"
    assert "https://${app.properties.configuration.ingress.fqdn}/api/messages" in SOURCE


def test_secrets_are_secure_params_and_never_outputs() -> None:
    secret_like = {p for p in PARAMS if re.search(r"password|secret|key", p, re.IGNORECASE)}
    assert secret_like
    assert secret_like <= SECURE
    for name in SECURE:
        default = BY_NAME[("param", name)].code.splitlines()[0].partition("=")[2].strip()
        assert default in ("", "''"), f"the secure param {name} has a default value"
    tainted = set(SECURE)
    changed = True
    while changed:  # vars built from secrets are secrets too (databaseUrl, secrets)
        changed = False
        for d in DECLARATIONS:
            if d.kind == "var" and d.name not in tainted and d.references() & tainted:
                tainted.add(d.name)
                changed = True
    assert {"databaseUrl", "secrets"} <= tainted
    for output in (d for d in DECLARATIONS if d.kind == "output"):
        assert not output.references() & tainted, output.name
        assert not re.search(r"\blist\w*\(", output.code), output.name
        assert not re.search(r"password|secret|key", output.name, re.IGNORECASE), output.name


def test_secrets_reach_the_container_only_as_secret_references() -> None:
    env = BY_NAME[("var", "env")]
    assert "secretRef" in env.code
    for line in SOURCE.splitlines():
        if re.search(r"\bvalue:\s*(appPassword|postgresAdminPassword|registryPassword|databaseUrl)\b", line):
            assert line.strip().startswith("value:")
    secrets = SOURCE[SOURCE.index("var secrets") : SOURCE.index("var env")]
    assert "value: appPassword" in secrets
    assert "value: databaseUrl" in secrets


def test_the_container_gets_exactly_the_settings_the_bot_reads() -> None:
    env_source = SOURCE[SOURCE.index("var env") : SOURCE.index("resource app")]
    names = set(re.findall(r"name: '([^']+)'", env_source))
    assert names == SETTINGS_ENV
    config = (ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    read = set(re.findall(r"(?:env\.get\(|env, |text\(|number\(|flag\()\"([A-Za-z_]+)\"", config))
    assert names <= read, f"the bot does not read {names - read}"
    assert "name: 'HOST'\n      value: '0.0.0.0'" in env_source


def test_probes_and_ingress_use_the_health_endpoint_and_the_exposed_port() -> None:
    dockerfile = (ROOT / "deployment" / "Dockerfile").read_text(encoding="utf-8")
    assert "EXPOSE 3978" in dockerfile
    assert "var port = 3978" in SOURCE
    assert "targetPort: port" in SOURCE
    assert SOURCE.count("path: '/healthz'") == 3


def test_replicas_never_scale_to_zero() -> None:
    """Scheduled sends (lägesbild, reminders) are made by the running service."""
    assert "@minValue(1)" in decorators_of(SOURCE, "minReplicas")


def test_database_url_is_built_for_the_bots_driver_with_an_encoded_password() -> None:
    expression = BY_NAME[("var", "databaseUrl")].code
    assert "postgresql+asyncpg://" in SOURCE
    assert "uriComponent" in expression
    # Bicep's uriComponent() percent-encodes like quote(safe=""): SQLAlchemy decodes it back.
    password = "p@ss:w/rd#1"
    url = make_url(f"postgresql+asyncpg://distansstod:{urllib.parse.quote(password, safe='')}@pg.example:5432/db")
    assert (url.password, url.host, url.database) == (password, "pg.example", "db")


def test_example_parameters_cover_what_has_no_default_and_hold_no_secret() -> None:
    example = json.loads((AZURE / "main.parameters.example.json").read_text(encoding="utf-8"))
    assert example["$schema"].endswith("/deploymentParameters.json#")
    given = set(example["parameters"])
    assert given <= set(PARAMS), f"unknown parameters: {given - set(PARAMS)}"
    assert not given & SECURE, "secrets are passed on the command line, never kept in a file"
    without_default = {d.name for d in DECLARATIONS if d.kind == "param" and "=" not in d.code}
    assert without_default - SECURE <= given
    assert example["parameters"]["minReplicas"]["value"] >= 1
