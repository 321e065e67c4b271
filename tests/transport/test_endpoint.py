"""The HTTP endpoint as the Bot Connector sees it: replies arrive, bad requests get 4xx, auth holds."""

from __future__ import annotations

import gc
import json
from collections import Counter
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from botbuilder.core import TurnContext
from botbuilder.core.bot_state import CachedBotState

from bot.app import create_app
from bot.config import Settings
from bot.conversation.cards import CardActivity
from bot.transport.local_connector import LocalConnector
from tests.activities import message
from tests.harness import bot_settings


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, clock) -> TestClient:
    return await aiohttp_client(create_app(bot_settings(tmp_path), clock=clock))


async def test_message_reply_reaches_the_connector(client: TestClient, connector: LocalConnector) -> None:
    response = await client.post("/api/messages", json=message(connector.url, "Måste jag ha VPN?"))
    assert response.status == 201
    (reply,) = connector.activities("a:personal-1")
    assert reply["type"] == "message"
    card = reply["attachments"][0]["content"]
    assert "VPN" in card["fallbackText"]
    assert reply["replyToId"]


async def test_healthz_answers_when_ready(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "JSON object"),
        (b'"text"', "JSON object"),
        (b"{}", "no type"),
        (b'{"type": 5}', "no type"),
        (b'{"type": "message", "conversation": {"id": "c"}}', "serviceUrl"),
        (b'{"type": "message", "serviceUrl": "ftp://x", "conversation": {"id": "c"}}', "serviceUrl"),
        (b'{"type": "message", "serviceUrl": "http://x/", "conversation": "c"}', "conversation"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
async def test_malformed_requests_get_400_with_reason(client: TestClient, body: bytes, reason: str) -> None:
    response = await client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert reason in (await response.json())["error"]


async def test_wrong_content_type_is_415(client: TestClient) -> None:
    response = await client.post("/api/messages", data=b"hello", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_oversize_body_is_413(client: TestClient, connector: LocalConnector) -> None:
    big = message(connector.url, "x" * (300 * 1024))
    response = await client.post("/api/messages", data=json.dumps(big), headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert connector.received == []


async def test_unknown_activity_type_is_accepted_and_ignored(client: TestClient, connector: LocalConnector) -> None:
    response = await client.post("/api/messages", json=message(connector.url, type="somethingNew"))
    assert response.status == 201
    assert connector.received == []


async def test_reply_failure_does_not_become_500(client: TestClient, connector: LocalConnector) -> None:
    from aiohttp import web

    connector.fault = lambda cid, body: web.json_response({"error": {"code": "Throttled"}}, status=500)
    response = await client.post("/api/messages", json=message(connector.url))
    assert response.status < 500


@pytest.fixture
async def authed_client(aiohttp_client, tmp_path: Path, clock) -> TestClient:
    base = bot_settings(tmp_path)
    settings = Settings(
        app_id="11111111-2222-3333-4444-555555555555",
        app_password="not-a-real-secret",
        data_dir=base.data_dir,
        content_dir=base.content_dir,
        database_url=base.database_url,
    )
    return await aiohttp_client(create_app(settings, clock=clock))


async def test_auth_on_request_without_token_is_401(authed_client: TestClient, connector: LocalConnector) -> None:
    response = await authed_client.post("/api/messages", json=message(connector.url))
    assert response.status == 401
    assert connector.received == []


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "garbage"])
async def test_auth_on_malformed_token_is_401(
    authed_client: TestClient, connector: LocalConnector, header: str
) -> None:
    response = await authed_client.post("/api/messages", json=message(connector.url), headers={"Authorization": header})
    assert response.status == 401
    assert connector.received == []


async def test_install_events_arriving_together_greet_once(client: TestClient, connector: LocalConnector) -> None:
    """Teams and the Playground post conversationUpdate and installationUpdate for one install at once."""
    import asyncio

    members = [{"id": "29:user-1", "name": "Anna"}, {"id": "28:guidance-bot", "name": "Distansstöd"}]
    events = [
        message(connector.url, type="conversationUpdate", text=None, membersAdded=members),
        message(connector.url, type="installationUpdate", text=None, action="add", locale="en-US"),
    ] * 3
    responses = await asyncio.gather(*(client.post("/api/messages", json=e) for e in events))
    assert all(r.status == 201 for r in responses)
    assert len(connector.activities("a:personal-1")) == 1


async def test_an_answered_turn_is_freed_when_it_ends(client: TestClient, connector: LocalConnector) -> None:
    """A turn's objects (its context, the answer card, the state it loaded) go when the turn ends.

    They used to stay in a reference cycle until the garbage collector's next pass, so memory rose
    with load (bot/transport/adapter.py)."""
    await client.post("/api/messages", json=message(connector.url, "Hej"))
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for text in ("Måste jag ha VPN?", "Can I work from home?"):
            response = await client.post("/api/messages", json=message(connector.url, text))
            assert response.status == 201
        gc.collect()
        left = Counter(
            type(o).__name__ for o in gc.garbage if isinstance(o, (TurnContext, CardActivity, CachedBotState))
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(connector.activities("a:personal-1")) == 3
    assert left == Counter()
