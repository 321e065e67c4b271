"""Starts the real server process (`python -m bot`) and talks to it over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import PROJECT_ROOT
from bot.local_connector import LocalConnector
from tests.bot.activities import message

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_healthy(url: str, proc: asyncio.subprocess.Process, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            assert proc.returncode is None, "server exited early"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server did not become healthy")


async def test_server_process_answers_over_http(tmp_path: Path, connector: LocalConnector) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    env.pop("MicrosoftAppId", None)
    env.pop("DATABASE_URL", None)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, proc)
        async with aiohttp.ClientSession() as session:
            activity = message(connector.url, "Hur länge gäller distansbeslutet?")
            async with session.post(f"{url}/api/messages", json=activity) as response:
                assert response.status == 201
            async with session.post(
                f"{url}/api/messages", data=b"{", headers={"Content-Type": "application/json"}
            ) as bad:
                assert bad.status == 400
        await connector.wait_for_count(1)
        reply = connector.activities()[0]
        assert "år" in reply["attachments"][0]["content"]["fallbackText"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            raise
    assert proc.returncode == 0
    logs = log_path.read_text(encoding="utf-8")
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
