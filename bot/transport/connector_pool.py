"""Outbound Bot Connector calls over one pooled aiohttp session, with connector clients reused.

botbuilder's stock path builds a new ConnectorClient (and msrest configuration, about 3 ms of
CPU each) for every turn and sends through `requests` on the default thread pool with a new
TCP connection per turn. Here a client is built once per (service URL, credentials object)
and kept for a bounded time, and every client sends through the same msrest AsyncPipeline
ending in `PooledHttpSender`: an aiohttp ClientSession with keep-alive, created in the running
loop and closed by `ConnectorPool.close()`.

The pipeline keeps msrest's policies (user agent, raw deserializer, HTTP logger) and puts the
bearer token on every request from the credentials object itself (`signed_session`), so the
token is always the one the credentials hold now; they cache and refresh it (MSAL).
Errors keep msrest's shapes: a non-2xx answer becomes botframework's ErrorResponseException
whose `.response` has `status_code`, `status` and `headers` (so DeliveryError can classify it),
and a transport failure becomes msrest's ClientRequestError.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botbuilder.schema import Activity
from botframework.connector import BotFrameworkConnectorConfiguration
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials
from botframework.connector.auth._connector_factory_impl import USER_AGENT
from msrest import Serializer
from msrest.pipeline import AsyncHTTPPolicy, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer

from bot.plain_json import is_plain_json
from bot.transport.activity_codec import activity_to_dict, serializes_like
from bot.transport.http_sender import (
    PooledHttpSender,
    TtlCache,
)
from bot.transport.pooled_conversations import PooledConversations, bearer_header

log = logging.getLogger(__name__)


class FastSerializer(Serializer):
    """msrest's Serializer, with short cuts that write the same JSON.

    An Activity body goes through bot.transport.activity_codec (msrest's `body` first rebuilt the whole
    model, then walked its map value by value); what the codec is not sure of comes back here.
    Adaptive Card content (Attachment.content, typed "object") went node by node through
    serialize_object, which for such a tree returns an equal copy of it: str, int, float and bool
    unchanged, dict keys as str. The copy was about half of serialising a reply. A plain tree is
    now returned as it is (the request body is dumped to JSON at once); anything else (models,
    dates, enums, odd keys) still takes msrest's path.
    """

    def __init__(self, classes: dict[str, type] | None = None) -> None:
        super().__init__(classes)
        # Client-side validation checks each model's `_validation` rules; the Bot Connector's models
        # have none, so it could never fail: skip the walk unless some model does have rules.
        if not any(getattr(model, "_validation", None) for model in (classes or {}).values()):
            self.client_side_validation = False
        self._activity_codec = serializes_like(self.dependencies)

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if data_type == "Activity" and not kwargs and self._activity_codec and isinstance(data, Activity):
            return activity_to_dict(data, fallback=self._msrest_activity_body)
        return super().body(data, data_type, **kwargs)

    def _msrest_activity_body(self, activity: Activity) -> Any:
        return super().body(activity, "Activity")

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        if type(attr) in (dict, list) and is_plain_json(attr):
            return attr
        return super().serialize_object(attr, **kwargs)


class BearerTokenPolicy(AsyncHTTPPolicy):
    """Puts the credentials' current token on each request, exactly as signed_session() decides."""

    def __init__(self, credentials: AppCredentials) -> None:
        super().__init__()
        self.credentials = credentials

    async def send(self, request: Request, **kwargs: Any) -> Response:
        authorization = bearer_header(self.credentials)
        if authorization:
            request.http_request.headers["Authorization"] = authorization
        else:
            request.http_request.headers.pop("Authorization", None)
        return await self.next.send(request, **kwargs)  # type: ignore[union-attr]


# ---- the client pool ----------------------------------------------------------------------


class ConnectorPool:
    """Connector clients per (service URL, credentials object), all sending through one session.

    The credentials object stands for the app id, audience (OAuth scope), login endpoint and
    authority validation it was made for (see fast_auth.CachingCredentialsFactory), so a client
    is never used for another service URL, app or audience.
    """

    def __init__(
        self,
        *,
        sender: PooledHttpSender | None = None,
        max_clients: int = 256,
        client_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender = sender or PooledHttpSender()
        self._clients: TtlCache[tuple[str, AppCredentials], ConnectorClient] = TtlCache(max_clients, client_ttl, clock)
        self.built = 0  # clients constructed so far (for tests and diagnostics)

    @staticmethod
    def supports(credentials: object) -> bool:
        return isinstance(credentials, AppCredentials)

    def client_for(self, service_url: str, credentials: AppCredentials) -> ConnectorClient:
        if not service_url:
            raise ValueError("service_url is required")
        key = (service_url, credentials)
        client = self._clients.get(key)
        if client is None:
            client = self._build(service_url, credentials)
            self._clients.put(key, client)
        return client

    def _build(self, service_url: str, credentials: AppCredentials) -> ConnectorClient:
        config = BotFrameworkConnectorConfiguration(credentials, service_url)
        config.custom_pipeline = AsyncPipeline(
            [
                config.user_agent_policy,
                BearerTokenPolicy(credentials),
                RawDeserializer(),
                config.http_logger_policy,
            ],
            self.sender,
        )
        client = ConnectorClient(credentials, custom_configuration=config)
        client.config.add_user_agent(USER_AGENT)
        serializer = FastSerializer(client._serialize.dependencies)
        client._serialize = serializer
        client.attachments._serialize = serializer
        # Replies and proactive posts skip msrest's pipeline; every other call keeps it.
        client.conversations = PooledConversations(
            client._client,
            client.config,
            serializer,
            client._deserialize,
            credentials=credentials,
            sender=self.sender,
            user_agent=config.user_agent_policy.user_agent,
        )
        self.built += 1
        return client

    def __len__(self) -> int:
        return len(self._clients)

    async def close(self) -> None:
        self._clients.clear()
        await self.sender.close()
