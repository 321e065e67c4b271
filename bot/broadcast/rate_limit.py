"""Microsoft Teams' limits for bots, as sliding windows the delivery workers check before each send.

Teams publishes (per bot, per conversation) 7 messages a second, 8 in 2 s, 60 in 30 s and 1,800
an hour, and overall 50 requests a second per app and tenant. Every request counts, failed
ones too, so the limiter records each attempt. Two safety measures absorb network jitter
between our clock and Microsoft's: every window is a little longer than published (`margin`,
plus `guard_s` for a conversation's bursts), and a tenant's requests are paced evenly instead
of in bursts, so they cannot bunch up into one window on the way.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from bot.config import ConfigError


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds:g}"


TEAMS_PER_CONVERSATION = (Limit(7, 1), Limit(8, 2), Limit(60, 30), Limit(1800, 3600))
TEAMS_OVERALL = (Limit(50, 1),)


def parse_limits(text: str, name: str) -> tuple[Limit, ...]:
    """ "7/1,8/2,60/30" -> limits; raises ConfigError naming the setting."""
    limits = []
    for part in text.split(","):
        count, _, seconds = part.strip().partition("/")
        try:
            limit = Limit(int(count), float(seconds))
        except ValueError as exc:
            raise ConfigError(f"{name} must look like 7/1,8/2 (count/seconds), got {text!r}") from exc
        if limit.count < 1 or limit.seconds <= 0:
            raise ConfigError(f"{name}: {part.strip()!r} needs a positive count and seconds")
        limits.append(limit)
    if not limits:
        raise ConfigError(f"{name} is empty")
    return tuple(limits)


@dataclass(frozen=True)
class RateLimits:
    per_conversation: tuple[Limit, ...] = TEAMS_PER_CONVERSATION
    overall: tuple[Limit, ...] = TEAMS_OVERALL  # per tenant
    margin: float = 0.05  # windows are this much longer than published …
    guard_s: float = 0.05  # … plus this many seconds

    def window(self, limit: Limit, paced: bool = False) -> float:
        """A limit's window as enforced: longer than published; paced traffic needs no extra guard."""
        return limit.seconds * (1 + self.margin) + (0.0 if paced else self.guard_s)

    @property
    def overall_gap(self) -> float:
        """The even spacing between two requests of one tenant."""
        return max(limit.seconds / limit.count for limit in self.overall) * (1 + self.margin)

    @property
    def min_seconds_for(self) -> float:
        """Seconds per request at the overall limit as published (the benchmark's yardstick)."""
        return max(limit.seconds / limit.count for limit in self.overall)


class _Log:
    """Times of recent requests for one key, newest last."""

    def __init__(self, size: int) -> None:
        self.times: deque[float] = deque(maxlen=size)
        self.blocked_until = 0.0

    def earliest(self, limits: tuple[Limit, ...], rules: RateLimits, now: float, paced: bool = False) -> float:
        at = max(now, self.blocked_until)
        for limit in limits:
            if len(self.times) >= limit.count:
                at = max(at, self.times[-limit.count] + rules.window(limit, paced))
        return at


class RateLimiter:
    """In-process limiter shared by one process's workers; times are seconds on any steady clock.

    With several replicas, give each a share of the limits (divide the counts by the number of
    replicas), since each replica only sees its own requests.
    """

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._conversations: dict[str, _Log] = {}
        self._tenants: dict[str, _Log] = {}
        self._last_by_tenant: dict[str, float] = {}
        self._size_conv = max(limit.count for limit in self.limits.per_conversation)
        self._size_tenant = max(limit.count for limit in self.limits.overall)
        self._longest = max(self.limits.window(limit) for limit in self.limits.per_conversation)
        self._records = 0

    def wait(self, conversation_id: str, tenant_id: str | None, now: float) -> float:
        """Seconds until a request to this conversation is allowed (0 when allowed now)."""
        tenant = tenant_id or ""
        conv = self._conversations.get(conversation_id)
        at = conv.earliest(self.limits.per_conversation, self.limits, now) if conv else now
        log = self._tenants.get(tenant)
        if log is not None:
            at = max(at, log.earliest(self.limits.overall, self.limits, now, paced=True))
        last = self._last_by_tenant.get(tenant)
        if last is not None:
            at = max(at, last + self.limits.overall_gap)
        return max(0.0, at - now)

    def acquire(self, conversation_id: str, tenant_id: str | None, now: float) -> float:
        """Record a request now if allowed and return 0; otherwise return the seconds to wait."""
        wait = self.wait(conversation_id, tenant_id, now)
        if wait > 0:
            return wait
        tenant = tenant_id or ""
        self._conversations.setdefault(conversation_id, _Log(self._size_conv)).times.append(now)
        self._tenants.setdefault(tenant, _Log(self._size_tenant)).times.append(now)
        self._last_by_tenant[tenant] = now
        self._records += 1
        if self._records % 1000 == 0:
            self._forget_idle(now)
        return 0.0

    def block(self, conversation_id: str, until: float) -> None:
        """Teams said 429 with Retry-After: nothing goes to this conversation before `until`."""
        log = self._conversations.setdefault(conversation_id, _Log(self._size_conv))
        log.blocked_until = max(log.blocked_until, until)

    def _forget_idle(self, now: float) -> None:
        idle = [
            cid
            for cid, log in self._conversations.items()
            if log.blocked_until < now and (not log.times or log.times[-1] < now - self._longest)
        ]
        for cid in idle:
            del self._conversations[cid]
