"""Checks that a list of request times keeps within count-per-window limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.broadcast.rate_limit import Limit


def worst_window(times: Sequence[float], seconds: float) -> int:
    """The most requests that fall within any window of `seconds` (half-open, as Teams counts)."""
    ordered = sorted(times)
    most = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def violations(times: Sequence[float], limits: Iterable[Limit]) -> list[str]:
    found = []
    for limit in limits:
        worst = worst_window(times, limit.seconds)
        if worst > limit.count:
            found.append(f"{worst} requests within {limit.seconds:g} s (limit {limit})")
    return found
