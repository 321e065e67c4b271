"""The pooled outbound path: clients reused only where they belong, auth as strict, errors classified."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationReference
from botframework.connector import models
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    ClaimsIdentity,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl
from hypothesis import given, settings
from hypothesis import strategies as st
from msrest import Serializer

from bot.app import SERVICES, create_app
from bot.config import Settings
from bot.transport.channel import ChannelGateway, DeliveryError
from bot.transport.connector_pool import ConnectorPool, FastSerializer
from bot.transport.fast_auth import _FACTORY_FIELDS, CachingCredentialsFactory, PooledBotFrameworkAuthentication
from bot.transport.http_sender import RetryPolicy, TtlCache, no_retries, parse_retry_after
from bot.transport.local_connector import LocalConnector
from tests.activities import message
from tests.harness import bot_settings

APP_ID = "11111111-2222-3333-4444-555555555555"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def echo(text: str = "pong"):
    async def logic(turn: TurnContext) -> None:
        await turn.send_activity(MessageFactory.text(text))

    return logic


def reference(service_url: str, conversation_id: str = "a:personal-1") -> ConversationReference:
    activity = Activity().deserialize(message(service_url))
    ref = TurnContext.get_conversation_reference(activity)
    ref.conversation.id = conversation_id
    return ref


# ---- the cache of clients ---------------------------------------------------------------------


def test_ttl_cache_expires_and_stays_bounded() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(2, 10.0, clock)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # "b" is the least recently used
    assert cache.get("b") is None
    assert len(cache) == 2
    clock.now = 10.0
    assert cache.get("a") is None


def test_client_per_service_url_and_credentials() -> None:
    clock = FakeClock()
    pool = ConnectorPool(client_ttl=60.0, clock=clock)
    creds_a = MicrosoftAppCredentials("app-a", "secret")
    creds_b = MicrosoftAppCredentials("app-b", "secret")
    emea = pool.client_for("https://smba.example/emea/", creds_a)
    amer = pool.client_for("https://smba.example/amer/", creds_a)
    assert emea is not amer
    assert emea.config.base_url == "https://smba.example/emea/"
    assert amer.config.base_url == "https://smba.example/amer/"
    other_app = pool.client_for("https://smba.example/emea/", creds_b)
    assert other_app is not emea
    assert other_app.config.credentials is creds_b
    assert pool.client_for("https://smba.example/emea/", creds_a) is emea  # reused
    assert pool.built == 3
    clock.now = 61.0
    rebuilt = pool.client_for("https://smba.example/emea/", creds_a)
    assert rebuilt is not emea
    assert rebuilt.config.credentials is creds_a
    assert pool.built == 4


async def test_credentials_cached_per_app_and_audience_and_refused_ids_never_cached() -> None:
    clock = FakeClock()
    factory = CachingCredentialsFactory(PasswordServiceClientCredentialFactory(APP_ID, "pw"), ttl=100.0, clock=clock)
    login = "https://login.microsoftonline.com/"
    first = await factory.create_credentials(APP_ID, "https://api.botframework.com", login, True)
    assert await factory.create_credentials(APP_ID, "https://api.botframework.com", login, True) is first
    other_audience = await factory.create_credentials(APP_ID, "api://skill", login, True)
    assert other_audience is not first
    assert other_audience.oauth_scope == "api://skill"
    for _ in range(2):  # asked again each time, and refused each time
        with pytest.raises(Exception, match="Invalid app_id"):
            await factory.create_credentials("someone-else", "https://api.botframework.com", login, True)
    clock.now = 100.0
    assert await factory.create_credentials(APP_ID, "https://api.botframework.com", login, True) is not first


def test_stock_factory_still_has_the_fields_the_pool_reads() -> None:
    factory = _ConnectorFactoryImpl("app", "scope", "login", True, PasswordServiceClientCredentialFactory())
    assert all(hasattr(factory, name) for name in _FACTORY_FIELDS)


async def test_gateway_reuses_one_client_per_service_url_and_replies_reach_each(tmp_path: Path) -> None:
    first, second = LocalConnector(), LocalConnector()
    await first.start()
    await second.start()
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        for connector in (first, second, first, second, first):
            activity = Activity().deserialize(message(connector.url, "hej"))
            await gateway.process("", activity, echo(f"to {connector.url}"))
        assert [a["text"] for a in first.activities()] == [f"to {first.url}"] * 3
        assert [a["text"] for a in second.activities()] == [f"to {second.url}"] * 2
        assert gateway.pool.built == 2
        assert len(gateway.pool) == 2
    finally:
        await gateway.close()
        await first.stop()
        await second.stop()


async def test_proactive_sends_use_the_pool_too(tmp_path: Path, connector: LocalConnector) -> None:
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        for _ in range(3):
            await gateway.send_proactive(reference(connector.url), MessageFactory.text("reminder"))
        assert len(connector.activities()) == 3
        assert gateway.pool.built == 1
    finally:
        await gateway.close()


async def test_user_token_client_cached_per_app_id(tmp_path: Path) -> None:
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    auth = gateway.auth
    assert isinstance(auth, PooledBotFrameworkAuthentication)
    anonymous = ClaimsIdentity({}, True)
    assert await auth.create_user_token_client(anonymous) is await auth.create_user_token_client(anonymous)


# ---- tokens still come from the credentials ---------------------------------------------------


class RotatingCredentials(AppCredentials):
    """Stands for MSAL-backed credentials: a new token whenever asked, counted."""

    def __init__(self) -> None:
        super().__init__(app_id=APP_ID)
        self.issued = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.issued += 1
        return f"token-{self.issued}"


async def test_each_send_asks_the_credentials_for_the_current_token(aiohttp_server) -> None:
    seen: list[str | None] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"id": "x"})

    app = web.Application()
    app.router.add_post("/v3/conversations/{cid}/activities", capture)
    server = await aiohttp_server(app)
    pool = ConnectorPool()
    credentials = RotatingCredentials()
    try:
        client = pool.client_for(str(server.make_url("/")), credentials)
        for _ in range(2):
            await client.conversations.send_to_conversation("c1", MessageFactory.text("x"))
        assert seen == ["Bearer token-1", "Bearer token-2"]
        anonymous = pool.client_for(str(server.make_url("/")), MicrosoftAppCredentials.empty())
        await anonymous.conversations.send_to_conversation("c1", MessageFactory.text("x"))
        assert seen[-1] is None  # no app id: no Authorization header, as botbuilder does
    finally:
        await pool.close()


# ---- authentication stays as strict -----------------------------------------------------------


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


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwYXNz"])
@pytest.mark.parametrize("defer", [False, True])
async def test_with_an_app_id_a_request_without_a_valid_token_is_refused(
    authed_client: TestClient, connector: LocalConnector, header: str | None, defer: bool
) -> None:
    services = authed_client.server.app[SERVICES]
    assert isinstance(services.gateway.auth, PooledBotFrameworkAuthentication)
    services.gateway.defer_turns = defer
    headers = {} if header is None else {"Authorization": header}
    response = await authed_client.post("/api/messages", json=message(connector.url), headers=headers)
    assert response.status == 401
    await asyncio.sleep(0.05)
    assert connector.received == []
    assert len(services.gateway.turns) == 0
    assert services.gateway.pool.built == 0  # nothing outbound was even built


# ---- the full path through the real app --------------------------------------------------------


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, clock) -> TestClient:
    return await aiohttp_client(create_app(bot_settings(tmp_path), clock=clock))


async def test_answers_arrive_at_the_connector_through_one_pooled_client(
    client: TestClient, connector: LocalConnector
) -> None:
    for i in range(3):
        activity = message(connector.url, "Måste jag ha VPN?", id=f"m{i}")
        response = await client.post("/api/messages", json=activity)
        assert response.status == 201
    replies = connector.activities("a:personal-1")
    assert len(replies) == 3
    assert all("VPN" in r["attachments"][0]["content"]["fallbackText"] for r in replies)
    assert [r["replyToId"] for r in replies] == ["m0", "m1", "m2"]
    gateway = client.server.app[SERVICES].gateway
    assert gateway.pool.built == 1
    session = gateway.pool.sender._session
    assert session is not None
    assert not session.closed


async def test_app_cleanup_closes_the_pooled_session(tmp_path: Path, connector: LocalConnector, clock) -> None:
    app = create_app(bot_settings(tmp_path), clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    gateway = app[SERVICES].gateway
    await gateway.process("", Activity().deserialize(message(connector.url)), echo())
    session = gateway.pool.sender._session
    assert session is not None
    assert not session.closed
    await runner.cleanup()
    assert session.closed
    assert len(gateway.pool) == 0


async def test_deferred_turns_answer_at_once_and_keep_order_per_conversation(
    client: TestClient, connector: LocalConnector
) -> None:
    gateway = client.server.app[SERVICES].gateway
    gateway.defer_turns = True
    release = asyncio.Event()

    async def hold_replies(cid: str, body: dict[str, Any]) -> None:
        await release.wait()  # the connector answers no reply until the test says so

    connector.fault = hold_replies
    for i, question in enumerate(["Måste jag ha VPN?", "Får jag ta med kontorsstolen hem?"]):
        response = await client.post("/api/messages", json=message(connector.url, question, id=f"d{i}"))
        assert response.status == 201
    assert connector.received == []  # both acknowledged while no reply had been answered
    assert len(gateway.turns) == 2
    release.set()
    await connector.wait_for_count(2, within=10)
    assert [r["replyToId"] for r in connector.activities()] == ["d0", "d1"]
    await gateway.turns.drain(10)
    # An invoke still gets the bot's own answer in the request, not a deferred 201.
    invoke = message(connector.url, type="invoke", name="unknown/thing", value={})
    response = await client.post("/api/messages", json=invoke)
    assert response.status != 201
    assert len(gateway.turns) == 0


# ---- retries and error classification ---------------------------------------------------------


def throttle_first(times: int, status: int = 429, retry_after: str | None = "0"):
    calls = {"n": 0}

    def fault(cid: str, body: dict[str, Any]) -> web.Response | None:
        calls["n"] += 1
        if calls["n"] <= times:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return web.json_response({"error": {"code": "Throttled"}}, status=status, headers=headers)
        return None

    return fault


@pytest.mark.parametrize("status", [429, 503])
async def test_a_throttled_reply_is_retried_then_delivered(
    tmp_path: Path, connector: LocalConnector, status: int
) -> None:
    connector.fault = throttle_first(1, status)
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        await gateway.process("", Activity().deserialize(message(connector.url)), echo("after a retry"))
        assert connector.attempts == 2
        assert [a["text"] for a in connector.activities()] == ["after a retry"]
    finally:
        await gateway.close()


async def test_retries_are_bounded_and_a_long_retry_after_is_not_waited_for() -> None:
    policy = RetryPolicy(attempts=3, backoff=0.2, max_wait=3.0)
    assert policy.wait_before_retry(1, 2.0) == 2.0
    assert policy.wait_before_retry(1, 30.0) is None
    assert policy.wait_before_retry(3, 0.0) is None
    assert 0 < policy.wait_before_retry(1, None) <= 3.0  # type: ignore[operator]


async def test_proactive_429_is_a_delivery_error_with_retry_after_and_not_retried(
    tmp_path: Path, connector: LocalConnector
) -> None:
    connector.fault = throttle_first(5, 429, "7")
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        with pytest.raises(DeliveryError) as caught:
            await gateway.send_proactive(reference(connector.url), MessageFactory.text("x"))
    finally:
        await gateway.close()
    error = caught.value
    assert error.status == 429
    assert error.retry_after == 7.0
    assert error.retryable
    assert not error.gone
    assert connector.attempts == 1  # the outbox schedules the retry, not the sender


@pytest.mark.parametrize(("status", "gone", "retryable"), [(403, True, False), (404, True, False), (502, False, True)])
async def test_async_client_errors_are_classified_by_status(
    tmp_path: Path, connector: LocalConnector, status: int, gone: bool, retryable: bool
) -> None:
    connector.fault = throttle_first(5, status, None)
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        with pytest.raises(DeliveryError) as caught:
            await gateway.send_proactive(reference(connector.url), MessageFactory.text("x"))
    finally:
        await gateway.close()
    assert caught.value.status == status
    assert caught.value.gone is gone
    assert caught.value.retryable is retryable
    assert caught.value.retry_after is None


async def test_error_response_exception_from_the_pooled_client_has_status_and_headers(
    connector: LocalConnector,
) -> None:
    connector.fault = throttle_first(1, 429, "12")
    pool = ConnectorPool()
    client = pool.client_for(connector.url, MicrosoftAppCredentials.empty())
    try:
        with pytest.raises(models.ErrorResponseException) as caught, no_retries():
            await client.conversations.send_to_conversation("c1", MessageFactory.text("x"))
    finally:
        await pool.close()
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["retry-after"] == "12"
    classified = DeliveryError.from_exception(caught.value)
    assert (classified.status, classified.retry_after) == (429, 12.0)


async def test_unreachable_connector_is_a_retryable_delivery_error(tmp_path: Path) -> None:
    gateway = ChannelGateway(Settings(data_dir=tmp_path))
    try:
        with pytest.raises(DeliveryError) as caught:
            await gateway.send_proactive(reference("http://127.0.0.1:9/"), MessageFactory.text("x"))
    finally:
        await gateway.close()
    assert caught.value.status is None
    assert caught.value.retryable


def test_retry_after_as_seconds_or_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Mon, 23 Nov 2026 09:00:05 GMT", now=lambda: now) == 5.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# ---- the serializer short cut -----------------------------------------------------------------


def test_fast_serializer_writes_the_same_json_as_msrest() -> None:
    from bot.conversation.cards import answer_activity

    client_models = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
    card = answer_activity(
        "Svar.\nKälla: x", "sv", ["Fråga 1?", "Fråga 2?"], answered=True, entry_id="e1", question="Fråga?"
    )
    card = TurnContext.apply_conversation_reference(
        card, TurnContext.get_conversation_reference(Activity().deserialize(message("http://x/")))
    )
    card.channel_data = {"notification": {"alert": True}, "n": 1.5, "none": None, "list": [1, "a", {"b": False}]}
    expected = json.dumps(Serializer(client_models).body(card, "Activity"), sort_keys=True)
    assert json.dumps(FastSerializer(client_models).body(card, "Activity"), sort_keys=True) == expected


async def test_pooled_replies_make_the_same_request_as_botframeworks_own_client(aiohttp_server) -> None:
    """Replies skip msrest's pipeline: same URL (quoted ids), headers and body as the stock client."""
    seen: list[dict[str, Any]] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append(
            {
                "path": request.raw_path,
                "headers": {k: request.headers.get(k) for k in ("Accept", "Content-Type", "x-ms-conversation-id")},
                "agent": "Microsoft-BotFramework" in request.headers.get("User-Agent", ""),
                "body": await request.json(),
            }
        )
        return web.json_response({"id": "sent-1"})

    app = web.Application()
    app.router.add_post("/emea/v3/conversations/{cid}/activities", capture)
    app.router.add_post("/emea/v3/conversations/{cid}/activities/{aid}", capture)
    server = await aiohttp_server(app)
    base = str(server.make_url("/emea/"))
    conversation = "19:abc@thread.tacv2;messageid=1700000000000"
    reply = TurnContext.apply_conversation_reference(MessageFactory.text("Hej"), reference(base, conversation))
    stock = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=base)
    pool = ConnectorPool()
    try:
        pooled = pool.client_for(base, MicrosoftAppCredentials.empty())
        for client in (stock, pooled):
            answer = await client.conversations.reply_to_activity(conversation, "1700000000000/2", reply)
            assert answer.id == "sent-1"
            answer = await client.conversations.send_to_conversation(conversation, reply)
            assert answer.id == "sent-1"
    finally:
        await pool.close()
    assert len(seen) == 4
    for stock_request, pooled_request in zip(seen[:2], seen[2:], strict=True):
        assert pooled_request["path"] == stock_request["path"]
        assert pooled_request["headers"] == stock_request["headers"]
        assert pooled_request["agent"]  # botbuilder's factory adds its agent; a bare stock client does not
        assert pooled_request["body"] == stock_request["body"]
    assert seen[0]["path"].startswith("/emea/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid")
    assert seen[0]["path"].endswith("/activities/1700000000000%2F2")


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(
        [
            "https://smba.trafficmanager.net/emea/",
            "https://smba.trafficmanager.net/emea",
            "http://127.0.0.1:3978",
            "https://host/a/../b/",
            "https://host/teams/./x",
            "https://host/p?q=1",
        ]
    ),
    conversation=st.text(max_size=12),
    activity=st.one_of(st.none(), st.text(max_size=12)),
)
def test_reply_urls_are_what_urljoin_makes(base: str, conversation: str, activity: str | None) -> None:
    """The prefix shortcut builds exactly msrest's urljoin(base, path), for any ids and any base."""
    pool = ConnectorPool()
    conversations = pool.client_for(base, MicrosoftAppCredentials.empty()).conversations
    quoted = quote(conversation, safe="")
    path = f"v3/conversations/{quoted}/activities"
    if activity is not None:
        path += "/" + quote(activity, safe="")
    expected = urljoin(base.rstrip("/") + "/", path)
    assert conversations._url(quoted, None if activity is None else quote(activity, safe="")) == expected
