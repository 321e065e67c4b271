"""One lägesbild to 1,000 channels through the local connector, within Teams' limits, with 5 % faults.

The whole production path: the report is published (outbox rows written), one delivery worker
sends through the real ChannelGateway/CloudAdapter over HTTP to bot.transport.local_connector, which
answers 5 % of the requests with 429 + Retry-After or a 5xx. Teams' limits come from Settings
(per conversation 7/1 s, 8/2 s, 60/30 s, 1,800/h; 50 a second overall) and are checked on the
connector's own arrival times of every request, failed ones included.

    python bench/broadcast_bench.py [--channels 1000] [--fault-rate 0.05] [--database-url URL]

Prints the time taken against the fastest the overall limit allows (channels / 50 a second),
and the delivered, duplicated and lost counts. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.broadcast import build_broadcast
from bot.broadcast.audit import Actor
from bot.broadcast.lagesbild import ReportInput
from bot.broadcast.rate_limit import Limit
from bot.clock import SystemClock
from bot.config import PROJECT_ROOT, Settings
from bot.storage import Database
from bot.transport.channel import ChannelGateway
from bot.transport.local_connector import LocalConnector

HR_ID = "00000000-0000-0000-0000-0000000000a1"  # the example HR person in content/roles.yaml
BOT = {"id": "28:guidance-bot", "name": "Distansstöd"}


def worst_window(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def installed(url: str, cid: str) -> Activity:
    """Teams' conversationUpdate when the bot is added to a team (the reference the bot keeps)."""
    return Activity().deserialize(
        {
            "type": "conversationUpdate",
            "channelId": "msteams",
            "serviceUrl": url,
            "from": {"id": "29:someone"},
            "recipient": BOT,
            "conversation": {"id": cid, "conversationType": "channel", "tenantId": "t1", "isGroup": True},
            "membersAdded": [BOT],
            "channelData": {"tenant": {"id": "t1"}, "team": {"id": cid, "name": "Bench"}},
        }
    )


async def run(channels: int, fault_rate: float, retry_after: float, database_url: str, seed: int) -> int:
    rng = random.Random(seed)
    requests: dict[str, list[float]] = defaultdict(list)
    faults = Counter[str]()

    def fault(cid: str, body: dict[str, Any]) -> web.Response | None:
        requests[cid].append(time.monotonic())
        if rng.random() >= fault_rate:
            return None
        if rng.random() < 0.5:
            faults["429"] += 1
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": f"{retry_after:g}"}
            )
        status = rng.choice([500, 502, 503, 504])
        faults[str(status)] += 1
        return web.json_response({"error": {"code": "ServiceError"}}, status=status)

    connector = LocalConnector(fault=fault)
    url = await connector.start()
    settings = Settings(content_dir=PROJECT_ROOT / "content", database_url=database_url)
    db = Database(database_url)
    await db.open()
    gateway = ChannelGateway(settings)
    feature, _ = build_broadcast(settings, db, SystemClock(), gateway)
    hr = Actor(HR_ID, "HR")
    try:
        ids = [f"19:bench-{i:05d}@thread.tacv2" for i in range(channels)]
        for cid in ids:
            await feature.registry.record(installed(url, cid))
            await feature.registry.set_subscribed(cid, True, hr)
        report = await feature.lagesbild.save_draft(
            ReportInput("48", "ordinarie", "Läget är lugnt.", {"beslut": "Inga nya beslut."}),
            hr,
            None,
            SystemClock().now(),
        )
        worker = feature.new_worker()
        started = time.monotonic()
        enqueued = await feature.publisher.publish_now(report.id, hr, "sv")
        assert enqueued is not None
        assert enqueued.reachable == channels
        await worker.drain()
        drained = time.monotonic() - started
    finally:
        await gateway.close()
        await db.close()
        await connector.stop()

    accepted = Counter(r.conversation_id for r in connector.received)
    delivered = sum(1 for cid in ids if accepted[cid] >= 1)
    duplicated = sum(accepted[cid] - 1 for cid in ids if accepted[cid] > 1)
    lost = channels - delivered
    last = max(r.at for r in connector.received if r.conversation_id in set(ids))
    elapsed = last - started
    overall = feature.limits.overall
    per_conversation = feature.limits.per_conversation
    minimum = channels * feature.limits.min_seconds_for
    all_times = [t for times in requests.values() for t in times]
    overall_worst = {limit: worst_window(all_times, limit.seconds) for limit in overall}
    conversation_worst: dict[Limit, int] = {
        limit: max(worst_window(times, limit.seconds) for times in requests.values()) for limit in per_conversation
    }
    within = all(overall_worst[limit] <= limit.count for limit in overall) and all(
        conversation_worst[limit] <= limit.count for limit in per_conversation
    )
    ratio = elapsed / minimum
    print(f"channels            {channels}")
    print(f"time taken          {elapsed:.1f} s (outbox drained, delivery report included, in {drained:.1f} s)")
    print(f"fastest allowed     {minimum:.1f} s at {overall[0].count / overall[0].seconds:g} requests a second")
    print(f"ratio               {ratio:.2f}x (target <= 1.5x)")
    print(
        f"requests            {len(all_times)} ({sum(faults.values())} faults injected: {dict(sorted(faults.items()))})"
    )
    print(f"delivered           {delivered}")
    print(f"duplicated          {duplicated}")
    print(f"lost                {lost}")
    print("limits              " + ", ".join(f"overall {lim}: worst {overall_worst[lim]}" for lim in overall))
    print(
        "                    "
        + ", ".join(f"conversation {lim}: worst {conversation_worst[lim]}" for lim in per_conversation)
    )
    ok = lost == 0 and duplicated == 0 and delivered == channels and ratio <= 1.5 and within
    print("result              " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--retry-after", type=float, default=1.0, help="seconds in the 429 answers' Retry-After")
    parser.add_argument("--database-url", default="", help="default: a new SQLite file in a temporary folder")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return asyncio.run(run(args.channels, args.fault_rate, args.retry_after, url, args.seed))


if __name__ == "__main__":
    sys.exit(main())
