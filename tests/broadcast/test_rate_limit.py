"""The limiter keeps Teams' published limits for any request pattern, and wastes little of them."""

from __future__ import annotations

import random

import pytest

from bot.broadcast.rate_limit import TEAMS_OVERALL, TEAMS_PER_CONVERSATION, Limit, RateLimiter, RateLimits, parse_limits
from bot.config import ConfigError
from tests.broadcast.limits import violations


def simulate(conversations: list[str], limiter: RateLimiter) -> dict[str, list[float]]:
    """A greedy sender on a virtual clock: sends each queued request as soon as the limiter allows."""
    now = 0.0
    sent: dict[str, list[float]] = {}
    queue = list(conversations)
    while queue:
        waits = []
        still = []
        for cid in queue:
            wait = limiter.acquire(cid, "t1", now)
            if wait == 0:
                sent.setdefault(cid, []).append(now)
            else:
                waits.append(wait)
                still.append(cid)
        queue = still
        if waits:
            now += min(waits)
    return sent


def test_broadcast_to_many_conversations_keeps_the_overall_limit() -> None:
    sent = simulate([f"c{i}" for i in range(500)], RateLimiter())
    everything = [t for times in sent.values() for t in times]
    assert violations(everything, TEAMS_OVERALL) == []
    # 500 requests at 50 a second need 10 s; the safety margin costs about 5 %.
    assert 9.9 < max(everything) < 10.6


def test_many_messages_to_one_conversation_keep_every_window() -> None:
    sent = simulate(["c1"] * 130, RateLimiter())
    assert violations(sent["c1"], TEAMS_PER_CONVERSATION) == []
    # 60 in 30 s is the binding limit: 130 messages need a little over 60 s.
    assert 60 < max(sent["c1"]) < 70


def test_mixed_traffic_keeps_all_limits() -> None:
    rng = random.Random(7)
    pattern = [f"c{rng.randint(0, 20)}" for _ in range(700)]
    sent = simulate(pattern, RateLimiter())
    for times in sent.values():
        assert violations(times, TEAMS_PER_CONVERSATION) == []
    assert violations([t for times in sent.values() for t in times], TEAMS_OVERALL) == []


def test_tenants_have_separate_overall_limits() -> None:
    limiter = RateLimiter(RateLimits(overall=(Limit(1, 1),)))
    assert limiter.acquire("a", "t1", 0.0) == 0
    assert limiter.acquire("b", "t1", 0.0) > 0
    assert limiter.acquire("c", "t2", 0.0) == 0


def test_retry_after_blocks_the_conversation() -> None:
    limiter = RateLimiter()
    limiter.block("c1", 5.0)
    assert limiter.acquire("c1", "t1", 1.0) == pytest.approx(4.0)
    assert limiter.acquire("c2", "t1", 1.0) == 0


def test_limits_are_configuration() -> None:
    assert parse_limits("7/1,8/2", "X") == (Limit(7, 1), Limit(8, 2))
    for bad in ("", "7", "7/0", "a/b", "0/1"):
        with pytest.raises(ConfigError):
            parse_limits(bad, "TEAMS_LIMITS_OVERALL")
