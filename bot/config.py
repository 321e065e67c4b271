"""Settings from environment variables, with the Bot Framework's own names for credentials."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T", int, float)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
# Run from a checkout, content/ and data/ sit beside bot/. Installed (`pip install .`), the content is shipped
# inside the package as bot/content (see pyproject.toml) and state goes to ./data under the working directory,
# never into site-packages.
_CHECKOUT = (PROJECT_ROOT / "content").is_dir()
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content" if _CHECKOUT else PACKAGE_DIR / "content"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" if _CHECKOUT else Path("data")


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def _number(env: Mapping[str, str], name: str, default: T, kind: Callable[[str], T]) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from exc


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _number(env, name, default, int)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, float)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be on or off (1/0, true/false), got {raw!r}")


# Where the served service (from_env) differs from a Settings() built in code: tests want replies before the
# POST returns and no background workers, a deployment wants both on.
SERVED_DEFAULTS: dict[str, object] = {"broadcast_background": True, "defer_turns": True}


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment; built once and passed down."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    host: str = "127.0.0.1"
    port: int = 3978
    data_dir: Path = DEFAULT_DATA_DIR
    content_dir: Path = DEFAULT_CONTENT_DIR
    database_url: str = ""
    log_level: str = "INFO"
    timezone: str = "Europe/Stockholm"
    role_teams_cache_seconds: float = 600.0  # ROLE_TEAMS_CACHE_SECONDS: how long a role team's roster is trusted
    default_language: str = "sv"  # DEFAULT_LANGUAGE: the organisation's language (greeting, channel posts)
    max_body_bytes: int = 256 * 1024
    # Broadcasts (bot/broadcast). Background scheduler and delivery workers run with the app when
    # BROADCAST_BACKGROUND is on (SERVED_DEFAULTS: on when served, off in a Settings() built in code).
    broadcast_background: bool = False
    delivery_concurrency: int = 16  # DELIVERY_CONCURRENCY: sends in flight per replica (the duplicate bound)
    delivery_max_attempts: int = 8  # DELIVERY_MAX_ATTEMPTS: tries before a row is marked failed
    delivery_lease_seconds: float = 90.0  # DELIVERY_LEASE_SECONDS: how long a claimed row is held
    delivery_send_timeout: float = 30.0  # DELIVERY_SEND_TIMEOUT: one send's time limit (< the lease)
    teams_limits_conversation: str = "7/1,8/2,60/30,1800/3600"  # TEAMS_LIMITS_CONVERSATION: count/seconds
    teams_limits_overall: str = "50/1"  # TEAMS_LIMITS_OVERALL: per app and tenant, count/seconds
    # DEFER_TURNS: acknowledge a message once it is in the turn journal, then run its turn (SERVED_DEFAULTS).
    defer_turns: bool = False
    turn_lease_seconds: float = 120.0  # TURN_LEASE_SECONDS: after this a journaled turn is replayed
    ack_wait_ms: float = 20.0  # ACK_WAIT_MS: how long a turn may run before the answer (then it is journaled)
    # REPLY_DEADLINE_SECONDS: an acknowledged message's replies are retried (Retry-After, backoff) until delivered
    # or this long after the message arrived; then dropped with a warning naming the conversation.
    reply_deadline_seconds: float = 6 * 3600.0
    unanswered_days: int = 30  # UNANSWERED_DAYS: how far back "obesvarade frågor" looks
    question_retention_days: int = 90  # QUESTION_RETENTION_DAYS: stored questions are deleted after this

    @property
    def local_mode(self) -> bool:
        """Without an app id the bot accepts unauthenticated requests (Playground, Emulator)."""
        return not self.app_id

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'bot.sqlite3'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        app_type = env.get("MicrosoftAppType", "").strip() or cls.app_type
        if app_type not in {"MultiTenant", "SingleTenant", "UserAssignedMSI"}:
            raise ConfigError(
                f"MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI, got {app_type!r}"
            )
        defaults: dict[str, Any] = {f.name: f.default for f in fields(cls)} | SERVED_DEFAULTS

        def text(name: str, attr: str) -> str:
            return env.get(name, "").strip() or defaults[attr]

        def number(name: str, attr: str) -> int | float:
            default = defaults[attr]
            return _number(env, name, default, type(default))

        def flag(name: str, attr: str) -> bool:
            return _flag(env, name, defaults[attr])

        settings = cls(
            app_id=env.get("MicrosoftAppId", "").strip(),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=app_type,
            app_tenant_id=env.get("MicrosoftAppTenantId", "").strip(),
            host=text("HOST", "host"),
            port=int(number("PORT", "port")),
            data_dir=Path(text("DATA_DIR", "data_dir")),
            content_dir=Path(text("CONTENT_DIR", "content_dir")),
            database_url=env.get("DATABASE_URL", "").strip(),
            log_level=text("LOG_LEVEL", "log_level").upper(),
            timezone=text("TIMEZONE", "timezone"),
            default_language=text("DEFAULT_LANGUAGE", "default_language").lower(),
            role_teams_cache_seconds=float(number("ROLE_TEAMS_CACHE_SECONDS", "role_teams_cache_seconds")),
            max_body_bytes=int(number("MAX_BODY_BYTES", "max_body_bytes")),
            broadcast_background=flag("BROADCAST_BACKGROUND", "broadcast_background"),
            delivery_concurrency=int(number("DELIVERY_CONCURRENCY", "delivery_concurrency")),
            delivery_max_attempts=int(number("DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts")),
            delivery_lease_seconds=float(number("DELIVERY_LEASE_SECONDS", "delivery_lease_seconds")),
            delivery_send_timeout=float(number("DELIVERY_SEND_TIMEOUT", "delivery_send_timeout")),
            teams_limits_conversation=text("TEAMS_LIMITS_CONVERSATION", "teams_limits_conversation"),
            teams_limits_overall=text("TEAMS_LIMITS_OVERALL", "teams_limits_overall"),
            defer_turns=flag("DEFER_TURNS", "defer_turns"),
            turn_lease_seconds=float(number("TURN_LEASE_SECONDS", "turn_lease_seconds")),
            ack_wait_ms=float(number("ACK_WAIT_MS", "ack_wait_ms")),
            reply_deadline_seconds=float(number("REPLY_DEADLINE_SECONDS", "reply_deadline_seconds")),
            unanswered_days=int(number("UNANSWERED_DAYS", "unanswered_days")),
            question_retention_days=int(number("QUESTION_RETENTION_DAYS", "question_retention_days")),
        )
        if app_type == "SingleTenant" and settings.app_id and not settings.app_tenant_id:
            raise ConfigError("MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant")
        if settings.delivery_concurrency < 1 or settings.delivery_max_attempts < 1:
            raise ConfigError("DELIVERY_CONCURRENCY and DELIVERY_MAX_ATTEMPTS must be at least 1")
        if not 0 < settings.delivery_send_timeout < settings.delivery_lease_seconds:
            raise ConfigError("DELIVERY_SEND_TIMEOUT must be positive and shorter than DELIVERY_LEASE_SECONDS")
        if settings.default_language not in ("sv", "en"):
            raise ConfigError(f"DEFAULT_LANGUAGE must be sv or en, got {settings.default_language!r}")
        if settings.turn_lease_seconds <= 0:
            raise ConfigError("TURN_LEASE_SECONDS must be positive")
        if settings.reply_deadline_seconds <= 0:
            raise ConfigError("REPLY_DEADLINE_SECONDS must be positive")
        if not 0 <= settings.ack_wait_ms <= 10_000:
            raise ConfigError("ACK_WAIT_MS must be between 0 and 10000")
        if settings.unanswered_days < 1 or settings.question_retention_days < 1:
            raise ConfigError("UNANSWERED_DAYS and QUESTION_RETENTION_DAYS must be at least 1")
        if not 0 < settings.port < 65536:
            raise ConfigError(f"PORT must be between 1 and 65535, got {settings.port}")
        return settings

    def bot_framework_configuration(self) -> object:
        """The attribute bag that botbuilder's ConfigurationBotFrameworkAuthentication reads."""

        class _BotFrameworkConfig:
            APP_ID = self.app_id
            APP_PASSWORD = self.app_password
            APP_TYPE = self.app_type
            APP_TENANTID = self.app_tenant_id

        return _BotFrameworkConfig()
