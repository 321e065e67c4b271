"""The HTTP end of every outbound Bot Connector call: one keep-alive aiohttp session, bounded retries.

Shared by the pooled connector clients (connector_pool) and the direct reply path (pooled_conversations),
which is why it lives apart from both: neither has to import the other.
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
from msrest.exceptions import ClientRequestError
from msrest.pipeline import AsyncHTTPSender, Request, Response
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_abc import AsyncClientResponse
from multidict import CIMultiDict
from requests.utils import requote_uri
from yarl import URL

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Statuses worth another try: throttled, or a server/gateway that failed before handling the call.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ORIGINS = 1024  # proxy decisions remembered; service URLs are few, but never let them grow without bound

# Retries apply to replies sent during a turn. The outbox (ChannelGateway.send_proactive) does
# its own scheduling from DeliveryError.retry_after, so it switches them off with `no_retries()`.
_retries_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("connector_retries", default=True)


# An acknowledged message's replies are owed until delivered: within `replies_until(deadline)` a reply
# that fails for a reason worth another try (no connection, 429, 5xx, a timeout) is tried again, with
# Retry-After or backoff, until the deadline (time.monotonic()), instead of RetryPolicy's few tries.
_reply_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("reply_deadline", default=None)


def owe_replies_until(deadline: float) -> None:
    """From here on in this task (a turn's own task), outbound calls are retried until `deadline`
    (time.monotonic()). A plain set, no reset: the task, and so its context, ends with the turn."""
    _reply_deadline.set(deadline)


def reply_deadline_passed() -> bool:
    """Whether the calling turn had a reply deadline and it has passed."""
    deadline = _reply_deadline.get()
    return deadline is not None and time.monotonic() >= deadline


@dataclass(frozen=True)
class DeadlinePolicy:
    """Backoff for replies that are owed until a deadline: 0.5 s doubling to `cap`, half of it random."""

    first: float = 0.5
    cap: float = 30.0

    def wait_before_retry(self, attempt: int, retry_after: float | None, deadline: float) -> float | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        if retry_after is None:
            wait = min(self.cap, self.first * 2 ** min(attempt - 1, 16))
            retry_after = wait * (0.5 + random.random() / 2)
        return min(retry_after, remaining)


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
        deadline_retry: DeadlinePolicy | None = None,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout))
        self.deadline_retry = deadline_retry or DeadlinePolicy()
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
        deadline = _reply_deadline.get() if retries else None

        def wait_for(retry_after: float | None) -> float | None:
            if not retries:
                return None
            if deadline is not None:
                return self.deadline_retry.wait_before_retry(attempt, retry_after, deadline)
            return self.retry.wait_before_retry(attempt, retry_after)

        while True:
            attempt += 1
            try:
                response = await self._send_once(http_request, headers, data)
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
                # Nothing reached the server (refused, DNS, TLS), or a kept-alive connection the server
                # had just closed: safe to try again.
                wait = wait_for(None)
                if wait is None:
                    raise ClientRequestError(f"Error occurred in request: {type(exc).__name__}: {exc}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                # It may have arrived: tried again only for a reply that is owed (at least once).
                wait = wait_for(None) if deadline is not None else None
                if wait is None:
                    raise ClientRequestError(f"Error occurred in request: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code not in RETRY_STATUSES:
                    return Response(request, response)
                wait = wait_for(parse_retry_after(response.headers.get("Retry-After")))
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
