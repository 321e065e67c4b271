"""Starts the real server process (`python -m bot`) and talks to it over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import PROJECT_ROOT
from bot.local_connector import LocalConnector
from tests.bot.activities import message
from tests.service_process import ServiceProcess, free_port

pytestmark = pytest.mark.e2e


async def test_server_process_answers_over_http(tmp_path: Path, connector: LocalConnector) -> None:
    server = ServiceProcess("e2e", tmp_path, {"LOG_LEVEL": "INFO", "DATABASE_URL": ""})
    await server.start()
    try:
        await server.wait_healthy()
        async with aiohttp.ClientSession() as session:
            activity = message(connector.url, "Hur länge gäller distansbeslutet?")
            async with session.post(f"{server.url}/api/messages", json=activity) as response:
                assert response.status == 201
            async with session.post(
                f"{server.url}/api/messages", data=b"{", headers={"Content-Type": "application/json"}
            ) as bad:
                assert bad.status == 400
        await connector.wait_for_count(1)
        reply = connector.activities()[0]
        assert "år" in reply["attachments"][0]["content"]["fallbackText"]
    finally:
        exit_code = await server.stop()
    assert exit_code == 0
    logs = server.log_path.read_text(encoding="utf-8")
    # Structured logs, and the user's text is not among them at info level.
    assert '"event": "bot ready"' in logs
    assert "distansbeslutet" not in logs


def test_invalid_content_refuses_to_start(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "knowledge").mkdir(parents=True)
    (content / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    (content / "knowledge" / "broken.yaml").write_text("entries:\n  - id: x\n", encoding="utf-8")
    env = {**os.environ, "CONTENT_DIR": str(content), "DATA_DIR": str(tmp_path), "PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "broken.yaml" in result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "bot", "check-content"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode != 0
    assert "broken.yaml" in check.stderr
