"""botbuilder's own Bot Framework authentication, with outbound clients and credentials reused.

`PooledBotFrameworkAuthentication` wraps the stock ConfigurationBotFrameworkAuthentication and
delegates every inbound check to it unchanged: JWT validation, issuers, endorsements, claims
validators, the anonymous identity when no app id is configured. Only what is built *after* a
request passed those checks is cached:

* credentials, by (app id, OAuth scope, login endpoint, validate-authority), for a bounded time
  (`CachingCredentialsFactory`). The stock factory makes a new MicrosoftAppCredentials, and so
  a new MSAL app with an empty token cache, every turn; a kept one reuses its token until MSAL
  refreshes it. A refused app id is never cached: the inner factory is asked again and raises.
* connector clients, by (service URL, credentials object) (`PooledConnectorFactory` over
  `ConnectorPool`), sending through one aiohttp session instead of `requests` on threads.
* user-token clients, by app id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
import requests
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
    jwt_token_extractor,
)
from botframework.connector.auth._built_in_bot_framework_authentication import _BuiltinBotFrameworkAuthentication
from botframework.connector.skills import BotFrameworkClient
from msrest.authentication import Authentication

from bot.config import Settings
from bot.transport.connector_pool import ConnectorPool
from bot.transport.http_sender import TtlCache

log = logging.getLogger(__name__)

# What botbuilder 4.17.1's _ConnectorFactoryImpl keeps; PooledConnectorFactory reads it so that the
# pooled path asks for exactly the credentials the stock factory would.
_FACTORY_FIELDS = ("_app_id", "_to_channel_from_bot_oauth_scope", "_login_endpoint", "_validate_authority")


# Every token the Bot Framework issues to a bot is RS256; botbuilder allows no other algorithm.
ALLOWED_ALGORITHMS = frozenset({"RS256"})
KEYS_RETRY_AFTER = 30  # seconds a channel is asked to wait when the signing keys cannot be fetched


KEYS_FETCH_TIMEOUT = 10.0  # seconds for each of the two requests that fetch the signing keys


def _fetch_signing_keys(url: str) -> list[Any]:
    """The OpenID metadata's signing keys, as botbuilder's _OpenIdMetadata._refresh reads them, with time limits."""
    try:
        metadata = requests.get(url, timeout=KEYS_FETCH_TIMEOUT)
        metadata.raise_for_status()
        keys = requests.get(metadata.json()["jwks_uri"], timeout=KEYS_FETCH_TIMEOUT)
        keys.raise_for_status()
        found = keys.json()["keys"]
    except (ValueError, KeyError, TypeError) as exc:  # an unreadable document is as unavailable as none
        raise requests.RequestException(f"signing keys unreadable: {type(exc).__name__}") from exc
    if not isinstance(found, list):
        raise requests.RequestException("signing keys unreadable: not a list")
    return found


async def _refresh_off_the_loop(self: Any) -> None:
    self.keys = await asyncio.to_thread(_fetch_signing_keys, self.url)
    self.last_updated = datetime.now()  # noqa: DTZ005 - botbuilder compares it with its own naive now()


def fetch_signing_keys_off_the_loop() -> None:
    """botbuilder 4.17.1 fetches the signing keys with blocking `requests` calls without a timeout on the
    event loop, so an unreachable login endpoint froze every request; they run in a thread instead."""
    jwt_token_extractor._OpenIdMetadata._refresh = _refresh_off_the_loop  # type: ignore[attr-defined]


class AuthUnavailable(Exception):
    """The request could not be checked now (the signing keys could not be fetched): answer 503."""

    retry_after = KEYS_RETRY_AFTER


def refuse_unless_rs256(auth_header: str) -> None:
    """Refuse, before any network call, a header that is not a readable RS256 bearer JWT."""
    scheme, _, token = auth_header.strip().partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise PermissionError("Unauthorized Access. Not a bearer token")
    try:
        header = jwt.get_unverified_header(token.strip())
    except jwt.PyJWTError as exc:
        raise PermissionError(f"Unauthorized Access. Token could not be read: {type(exc).__name__}") from exc
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
        raise PermissionError("Unauthorized Access. Token signing algorithm not allowed")


class CachingCredentialsFactory(ServiceClientCredentialsFactory):
    """Hands out the same credentials object for the same request, for up to `ttl` seconds."""

    def __init__(
        self,
        inner: ServiceClientCredentialsFactory,
        *,
        ttl: float = 3600.0,
        max_size: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._cache: TtlCache[tuple[Any, ...], Authentication] = TtlCache(max_size, ttl, clock)

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self.inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self.inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id, oauth_scope, login_endpoint, bool(validate_authority))
        credentials = self._cache.get(key)
        if credentials is None:
            # Raises for an app id that is not ours, as the stock factory does; nothing is cached then.
            credentials = await self.inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            self._cache.put(key, credentials)
        return credentials


class PooledConnectorFactory(ConnectorFactory):
    """Same credentials as the stock factory it wraps; the client comes from the pool."""

    def __init__(self, inner: ConnectorFactory, credentials_factory: CachingCredentialsFactory, pool: ConnectorPool):
        self.inner = inner
        self._credentials_factory = credentials_factory
        self._pool = pool
        self._app_id, self._scope, self._login_endpoint, self._validate_authority = (
            getattr(inner, name) for name in _FACTORY_FIELDS
        )

    @staticmethod
    def can_wrap(inner: object) -> bool:
        return all(hasattr(inner, name) for name in _FACTORY_FIELDS)

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        credentials = await self._credentials_factory.create_credentials(
            self._app_id, audience or self._scope, self._login_endpoint, self._validate_authority
        )
        if not self._pool.supports(credentials):
            return await self.inner.create(service_url, audience)  # type: ignore[arg-type]
        return self._pool.client_for(service_url, credentials)  # type: ignore[arg-type]


class PooledBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegates authentication to `inner`; wraps the factories it returns with pooled ones."""

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        credentials_factory: CachingCredentialsFactory,
        pool: ConnectorPool,
        *,
        user_token_ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.credentials_factory = credentials_factory
        self.pool = pool
        self._user_token_clients: TtlCache[str | None, UserTokenClient] = TtlCache(64, user_token_ttl, clock)
        self._warned = False

    @classmethod
    def from_settings(cls, settings: Settings, pool: ConnectorPool) -> PooledBotFrameworkAuthentication:
        """The stock ConfigurationBotFrameworkAuthentication for these settings, pooled."""
        from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory

        fetch_signing_keys_off_the_loop()
        configuration = settings.bot_framework_configuration()
        credentials_factory = CachingCredentialsFactory(ConfigurationServiceClientCredentialFactory(configuration))
        inner = ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials_factory)
        return cls(inner, credentials_factory, pool)

    def _pooled(self, factory: ConnectorFactory | None) -> ConnectorFactory | None:
        if factory is None or isinstance(factory, PooledConnectorFactory):
            return factory
        if not PooledConnectorFactory.can_wrap(factory) or (
            getattr(factory, "_credential_factory", None) is not self.credentials_factory
        ):
            if not self._warned:
                log.warning("connector factory not pooled", extra={"factory": type(factory).__name__})
                self._warned = True
            return factory
        return PooledConnectorFactory(factory, self.credentials_factory, self.pool)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        if auth_header and auth_header.strip():
            refuse_unless_rs256(auth_header)
        try:
            result = await self.inner.authenticate_request(activity, auth_header)  # PermissionError when refused
        except PermissionError:
            raise
        except jwt.PyJWTError as exc:
            # botbuilder lets PyJWT's error out for a bearer value that is not a JWT at all; it is
            # as much a refusal as any other bad token, so callers see one kind of refusal.
            raise PermissionError(f"Unauthorized Access. Token could not be read: {type(exc).__name__}") from exc
        except requests.RequestException as exc:
            # botbuilder fetches the signing keys (OpenID metadata) with `requests` when it needs them.
            raise AuthUnavailable(type(exc).__name__) from exc
        except Exception as exc:
            raise PermissionError(f"Unauthorized Access. Token refused: {type(exc).__name__}") from exc
        result.connector_factory = self._pooled(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)
        except jwt.PyJWTError as exc:
            raise PermissionError(f"Unauthorized Access. Token could not be read: {type(exc).__name__}") from exc

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        factory = self._pooled(self.inner.create_connector_factory(claims_identity))
        assert factory is not None
        return factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # The stock client depends on the claims only through the app id; the rest is configuration.
        app_id = _BuiltinBotFrameworkAuthentication.get_app_id(claims_identity)
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await self.inner.create_user_token_client(claims_identity)
            self._user_token_clients.put(app_id, client)
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self.inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self.inner.authenticate_channel_request(auth_header)
        except jwt.PyJWTError as exc:
            raise PermissionError(f"Unauthorized Access. Token could not be read: {type(exc).__name__}") from exc
