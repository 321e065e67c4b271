"""Starts the real server process (`python -m bot`) and talks to it over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.config import PROJECT_ROOT
from bot.transport.local_connector import LocalConnector
from tests.activities import message
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
    # Structured logs (one JSON object a line), and the user's text is not among them at info level.
    records = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert "bot ready" in [r["event"] for r in records]
    assert all({"ts", "level", "logger", "event"} <= r.keys() for r in records)
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


async def test_messages_acknowledged_before_a_crash_are_answered_after_the_restart(
    tmp_path: Path, connector: LocalConnector
) -> None:
    """SIGKILL while replies hang: every message the channel got a 201 for is answered by the next process."""
    release = asyncio.Event()
    hanging: list[str] = []

    async def hang(cid: str, body: dict[str, Any]) -> web.Response:
        hanging.append(str(body.get("replyToId")))
        await release.wait()
        return web.json_response({"error": {"code": "Gone"}}, status=503)  # its sender is dead anyway

    connector.fault = hang
    env = {"LOG_LEVEL": "INFO", "DATABASE_URL": "", "DEFER_TURNS": "1", "TURN_LEASE_SECONDS": "2"}
    first = ServiceProcess("crashing", tmp_path, env)
    await first.start()
    acknowledged: list[str] = []
    try:
        await first.wait_healthy()
        async with aiohttp.ClientSession() as session:
            for i in range(6):
                activity = message(
                    connector.url,
                    "Måste jag ha VPN?",
                    id=f"k{i}",
                    conversation={"id": f"a:user-{i}", "conversationType": "personal", "tenantId": "t1"},
                )
                async with session.post(f"{first.url}/api/messages", json=activity) as response:
                    assert response.status == 201
                    acknowledged.append(f"k{i}")
        for _ in range(300):  # every turn gets stuck sending its reply
            if len(hanging) == 6:
                break
            await asyncio.sleep(0.05)
        assert sorted(hanging) == acknowledged
    finally:
        first.kill()
        await first.stop()
    connector.received.clear()
    connector.fault = None
    release.set()
    second = ServiceProcess("restarted", tmp_path, env, port=free_port())
    await second.start()
    try:
        await second.wait_healthy()
        await connector.wait_for_count(6, within=30)
        replied = sorted(r["replyToId"] for r in connector.activities())
        assert replied == acknowledged
        assert sum(1 for r in second.logs() if r.get("event") == "journaled turn replayed") == 6, second.log_tail(40)
    finally:
        assert await second.stop() == 0
