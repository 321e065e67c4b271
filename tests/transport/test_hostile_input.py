"""Input found by probing the running service: odd invokes, forged tokens, broken mention entities.

Each gets a 4xx (or the turn simply runs), never a 5xx, and never an error-level traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from aiohttp.test_utils import TestClient
from botframework.connector.auth import jwt_token_extractor
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.app import create_app
from bot.config import Settings
from bot.transport.local_connector import LocalConnector
from tests.activities import message
from tests.harness import bot_settings


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, clock) -> TestClient:
    return await aiohttp_client(create_app(bot_settings(tmp_path), clock=clock))


def invoke(service_url: str, **extra: Any) -> dict[str, Any]:
    return message(service_url, type="invoke", text=None, **extra)


# ---- 1 and 2: invokes ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["foo", None, "", "task/fetch", "composeExtension/query", "signin/verifyState"])
async def test_unsupported_invokes_get_400_at_info_level(
    client: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture, name: str | None
) -> None:
    """At INFO (as served) the log line for an unsupported invoke must not break the answer."""
    caplog.set_level(logging.INFO)
    body = invoke(connector.url, value={"odd": [1, 2]})
    if name is not None:
        body["name"] = name
    response = await client.post("/api/messages", json=body)
    assert response.status == 400, await response.text()
    assert "error" in await response.json()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "value",
    [{}, {"action": {"verb": "x"}}, {"action": {"type": "Action.Execute", "verb": "x"}}, {"action": None}, [1], "x"],
)
async def test_adaptive_card_actions_with_unexpected_values_get_a_json_4xx(
    client: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    caplog.set_level(logging.INFO)
    response = await client.post("/api/messages", json=invoke(connector.url, name="adaptiveCard/action", value=value))
    assert 400 <= response.status < 500, await response.text()
    assert response.content_type == "application/json"
    await response.json()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---- 3: forged tokens ------------------------------------------------------------------------

APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
async def authed_client(aiohttp_client, tmp_path: Path, clock) -> TestClient:
    base = bot_settings(tmp_path)
    settings = Settings(
        app_id=APP_ID,
        app_password="not-a-real-secret",
        data_dir=base.data_dir,
        content_dir=base.content_dir,
        database_url=base.database_url,
    )
    return await aiohttp_client(create_app(settings, clock=clock))


@pytest.fixture
def metadata_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The OpenID metadata cannot be fetched; every try is recorded."""
    calls: list[str] = []

    def unreachable(url: str, *args: Any, **kwargs: Any) -> None:
        calls.append(url)
        raise requests.ConnectionError(f"cannot reach {url}")

    monkeypatch.setattr(jwt_token_extractor.requests, "get", unreachable)
    monkeypatch.setattr(jwt_token_extractor.JwtTokenExtractor, "metadataCache", {})
    return calls


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": "https://api.botframework.com", "aud": APP_ID, "iat": now, "nbf": now, "exp": now + 600}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token() -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."


def hs256_token() -> str:
    return jwt.encode(_claims(), "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")


def self_signed_rs256_token() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "forged-key"})


@pytest.mark.parametrize("make", [unsigned_token, hs256_token], ids=["alg-none", "hs256"])
async def test_tokens_not_signed_with_rs256_get_401_without_a_network_call(
    authed_client: TestClient, connector: LocalConnector, metadata_calls: list[str], make: Any
) -> None:
    response = await authed_client.post(
        "/api/messages", json=message(connector.url), headers={"Authorization": f"Bearer {make()}"}
    )
    assert response.status == 401
    assert metadata_calls == []
    assert connector.received == []


async def test_a_token_whose_keys_cannot_be_fetched_gets_503_with_retry_after(
    authed_client: TestClient,
    connector: LocalConnector,
    metadata_calls: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    response = await authed_client.post(
        "/api/messages",
        json=message(connector.url),
        headers={"Authorization": f"Bearer {self_signed_rs256_token()}"},
    )
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    assert metadata_calls  # it did try
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    assert warnings[0].exc_info is None
    assert connector.received == []


# ---- 7: mention entities ---------------------------------------------------------------------

BAD_ENTITIES: list[Any] = [
    [{"type": "mention", "mentioned": ""}],
    [{"type": "mention", "mentioned": [{"id": "28:guidance-bot"}]}],
    [{"type": "mention", "mentioned": {"id": 5}, "text": 7}],
    [{"type": "mention", "mentioned": {"id": "28:guidance-bot"}, "text": None}],
    [{"type": "mention", "mentioned": {"id": "28:guidance-bot"}, "text": "<at>(unclosed"}],
    [{"type": None}],
    [{"mentioned": {"id": "28:guidance-bot"}}],
    [{"type": "mention"}],
]


@pytest.mark.parametrize("entities", BAD_ENTITIES)
@pytest.mark.parametrize("conversation_type", ["personal", "channel"])
async def test_malformed_mention_entities_are_ignored(
    client: TestClient,
    connector: LocalConnector,
    caplog: pytest.LogCaptureFixture,
    entities: list[Any],
    conversation_type: str,
) -> None:
    caplog.set_level(logging.INFO)
    body = message(connector.url, "Måste jag ha VPN?", entities=entities)
    body["conversation"] = {"id": "19:c@thread.tacv2", "conversationType": conversation_type, "tenantId": "t1"}
    response = await client.post("/api/messages", json=body)
    assert response.status == 201
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    if conversation_type == "personal":  # the message is still answered
        (reply,) = connector.activities()
        assert "VPN" in reply["attachments"][0]["content"]["fallbackText"]


# ---- found by bench/soak_reliability.py --------------------------------------------------------


@pytest.mark.parametrize("sender", [None, "x", [], {"name": "no id"}, {"id": 5}, {"id": ""}])
async def test_a_message_without_a_sender_id_gets_400(
    client: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture, sender: Any
) -> None:
    body = message(connector.url, "Måste jag ha VPN?")
    body["from"] = sender
    response = await client.post("/api/messages", json=body)
    assert response.status == 400
    assert "from.id" in (await response.json())["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "value",
    [
        {"action": {"nested": 1}},
        {"action": ["bc_lagesbild_publish"]},
        {"action": "walkthrough", "op": {"x": 1}},
        {"action": "walkthrough", "op": ["answer"]},
    ],
)
async def test_card_submits_with_unhashable_fields_are_answered_without_an_error(
    client: TestClient, connector: LocalConnector, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    caplog.set_level(logging.INFO)
    body = message(connector.url, "", value=value)
    del body["text"]
    response = await client.post("/api/messages", json=body)
    assert response.status == 201
    assert connector.activities()  # told that the choice was not understood
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_token_whose_alg_is_not_a_string_gets_401(
    authed_client: TestClient, connector: LocalConnector, metadata_calls: list[str]
) -> None:
    token = f"{_b64({'alg': ['RS256'], 'typ': 'JWT'})}.{_b64(_claims())}.c2ln"
    response = await authed_client.post(
        "/api/messages", json=message(connector.url), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
    assert metadata_calls == []


async def test_fetching_the_signing_keys_does_not_block_the_service(
    authed_client: TestClient, connector: LocalConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botbuilder fetched them with `requests` on the event loop, without a timeout: a black-holed
    login endpoint froze every request. The fetch runs in a thread now, with a time limit."""
    timeouts: list[Any] = []

    def slow_and_failing(url: str, *args: Any, **kwargs: Any) -> None:
        timeouts.append(kwargs.get("timeout"))
        time.sleep(1.0)
        raise requests.ConnectTimeout(f"no answer from {url}")

    monkeypatch.setattr(jwt_token_extractor.requests, "get", slow_and_failing)
    monkeypatch.setattr(jwt_token_extractor.JwtTokenExtractor, "metadataCache", {})
    forged = asyncio.ensure_future(
        authed_client.post(
            "/api/messages",
            json=message(connector.url),
            headers={"Authorization": f"Bearer {self_signed_rs256_token()}"},
        )
    )
    await asyncio.sleep(0.2)
    started = time.monotonic()
    health = await authed_client.get("/healthz")
    assert health.status == 200
    assert time.monotonic() - started < 0.5
    assert not forged.done()
    assert (await forged).status == 503
    assert timeouts
    assert all(isinstance(t, int | float) and t > 0 for t in timeouts)
