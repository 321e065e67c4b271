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

import asyncio
import contextvars
import email.utils
import logging
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from botbuilder.schema import Activity
from botframework.connector import BotFrameworkConnectorConfiguration
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import AppCredentials
from botframework.connector.auth._connector_factory_impl import USER_AGENT
from msrest import Serializer
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict
from requests.utils import requote_uri
from yarl import URL

from bot.activity_codec import activity_to_dict, serializes_like
from bot.plain_json import is_plain_json
from bot.pooled_conversations import PooledConversations, bearer_header

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Statuses worth another try: throttled, or a server/gateway that failed before handling the call.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ORIGINS = 1024  # proxy decisions remembered; service URLs are few, but never let them grow without bound

# Retries apply to replies sent during a turn. The outbox (ChannelGateway.send_proactive) does
# its own scheduling from DeliveryError.retry_after, so it switches them off with `no_retries()`.
_retries_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("connector_retries", default=True)


@contextmanager
def no_retries() -> Iterator[None]:
    """Within this block (and the tasks it awaits), each outbound call is tried once."""
    token = _retries_enabled.set(False)
    try:
        yield
    finally:
        _retries_enabled.reset(token)


class TtlCache(Generic[K, V]):
    """A small LRU map whose entries also expire `ttl` seconds after they were stored."""

    def __init__(self, max_size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1 or ttl <= 0:
            raise ValueError("max_size must be >= 1 and ttl > 0")
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        expires, value = found
        if self._clock() >= expires:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self._clock() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# ---- the HTTP sender ----------------------------------------------------------------------


class BufferedResponse(AsyncClientResponse):
    """An HTTP answer read in full; keeps no connection or aiohttp object alive."""

    def __init__(self, request: ClientRequest, status: int, reason: str | None, headers: CIMultiDict[str], body: bytes):
        super().__init__(request, None)
        self.status_code = status
        self.headers = headers
        self.reason = reason
        self._body = body

    @property
    def internal_response(self) -> BufferedResponse:
        """msrest's HttpOperationError exposes `.internal_response` as `.response`: this answer itself
        (a property, so the answer is not in a reference cycle with itself)."""
        return self

    @internal_response.setter
    def internal_response(self, _value: object) -> None:
        pass  # msrest's constructor sets it; the answer is always its own

    @property
    def status(self) -> int:  # aiohttp's name, for code that expects it
        return self.status_code  # type: ignore[return-value]

    def body(self) -> bytes:
        return self._body

    def raise_for_status(self) -> None:
        if self.status_code is not None and self.status_code >= 400:
            raise ClientRequestError(f"Received status code {self.status_code}")

    def stream_download(self, chunk_size: int | None = None, callback: Callable | None = None) -> AsyncIterator[bytes]:
        size = chunk_size or 10 * 1024
        body = self._body

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), size):
                chunk = body[start : start + size]
                if callback is not None:
                    callback(chunk, self)
                yield chunk

        return chunks()


def parse_retry_after(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for replies: at most `attempts` tries, never a wait longer than `max_wait`."""

    attempts: int = 3
    backoff: float = 0.2  # first wait without Retry-After; doubles, with jitter
    max_wait: float = 3.0  # a Retry-After above this is not waited for: the error goes to the caller

    def wait_before_retry(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before try number `attempt + 1`, or None to give up now."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_wait else None
        return min(self.max_wait, self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))


class PooledHttpSender(AsyncHTTPSender):
    """The end of every pooled client's msrest pipeline: one keep-alive aiohttp session."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        limit: int = 256,
        limit_per_host: int = 128,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout))
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.retry = retry or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[str | None, aiohttp.BasicAuth | None]] = {}

    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use inside the running event loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.limit, limit_per_host=self.limit_per_host, keepalive_timeout=30, ttl_dns_cache=300
            )
            # No cookie jar: the stock sender starts a new `requests` session, without cookies, every turn.
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    def _proxy_for(self, url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        """HTTP(S)_PROXY / NO_PROXY from the environment, as `requests` honours them, looked up once per origin.

        (aiohttp's trust_env would look them up, and ~/.netrc, in a worker thread on every request.)
        """
        # Keyed by the text up to the path ("https://host:port"), which names one origin, so that a
        # known origin costs no URL parsing; the lookup itself takes the parsed origin.
        scheme, sep, rest = url.partition("://")
        key = scheme + sep + rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        found = self._proxies.get(key)
        if found is None:
            try:
                proxy, auth = get_env_proxy_for_url(URL(url).origin())
                found = (str(proxy), auth)
            except LookupError:
                found = (None, None)
            if len(self._proxies) >= MAX_ORIGINS:
                self._proxies.clear()
            self._proxies[key] = found
        return found

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> PooledHttpSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        # Clients share this sender: leaving one client's context must not close the session.
        return None

    async def send(self, request: Request, **kwargs: Any) -> Response:
        http_request: ClientRequest = request.http_request
        if http_request.files:
            raise ClientRequestError("multipart uploads are not supported by the pooled sender")
        data = http_request.data
        if isinstance(data, str):
            data = data.encode("utf-8")
        headers = {k: v for k, v in http_request.headers.items() if k.lower() != "content-length"}
        attempt = 0
        retries = _retries_enabled.get()
        while True:
            attempt += 1
            try:
                response = await self._send_once(http_request, headers, data)
            except aiohttp.ClientConnectorError as exc:
                # Nothing reached the server (refused, DNS, TLS): safe to try again.
                wait = self.retry.wait_before_retry(attempt, None) if retries else None
                if wait is None:
                    raise ClientRequestError(f"Error occurred in request: {type(exc).__name__}: {exc}") from exc
            except aiohttp.ServerDisconnectedError as exc:
                # Typically a kept-alive connection the server had just closed.
                wait = self.retry.wait_before_retry(attempt, None) if retries else None
                if wait is None:
                    raise ClientRequestError(f"Error occurred in request: {type(exc).__name__}: {exc}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise ClientRequestError(f"Error occurred in request: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code not in RETRY_STATUSES or not retries:
                    return Response(request, response)
                wait = self.retry.wait_before_retry(attempt, parse_retry_after(response.headers.get("Retry-After")))
                if wait is None:
                    return Response(request, response)
                log.info(
                    "connector call retried",
                    extra={"status": response.status_code, "attempt": attempt, "wait": round(wait, 3)},
                )
            await asyncio.sleep(wait)

    async def _send_once(self, http_request: ClientRequest, headers: dict[str, str], data: Any) -> BufferedResponse:
        proxy, proxy_auth = self._proxy_for(http_request.url)
        async with self.session().request(
            http_request.method,
            # As `requests` sends it: ids stay percent-encoded (yarl would decode ':' '@' ';' in the
            # path, and a Teams conversation id holds all three).
            URL(requote_uri(http_request.url), encoded=True),
            headers=headers,
            data=data,
            proxy=proxy,
            proxy_auth=proxy_auth,
        ) as resp:
            body = await resp.read()
            return BufferedResponse(http_request, resp.status, resp.reason, CIMultiDict(resp.headers), body)


class FastSerializer(Serializer):
    """msrest's Serializer, with short cuts that write the same JSON.

    An Activity body goes through bot.activity_codec (msrest's `body` first rebuilt the whole
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
