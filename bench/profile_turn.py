"""Profile our bot's full message path in one process (cProfile): where does a turn's CPU go?

Starts create_app on a fresh SQLite database with a LocalConnector, sends N messages through
HTTP (warm-up first), and prints the top functions. The client and the connector run in the same
process, so their share shows up too; look at the bot's own frames.

    python bench/profile_turn.py -n 500 --sort tottime --top 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_bench import activity  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.transport.local_connector import LocalConnector  # noqa: E402


async def run(n: int, users: int, profile: cProfile.Profile | None, defer: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), content_dir=ROOT / "content")
        app = create_app(settings)
        if defer:
            from bot.app import SERVICES

            app[SERVICES].gateway.defer_turns = True
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        connector = LocalConnector()
        await connector.start()
        url = f"http://127.0.0.1:{port}/api/messages"
        async with aiohttp.ClientSession() as session:

            async def send(seq: int) -> None:
                body = json.dumps(activity(connector.url, seq, seq % users, "p")).encode()
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                    assert r.status == 201, r.status
                await connector.wait_for_count(seq + 1 - base)

            base = 0
            for i in range(50):
                await send(i)
            base = 50
            connector.received.clear()
            if profile:
                profile.enable()
            t0 = time.perf_counter()
            for i in range(50, 50 + n):
                await send(i)
            elapsed = time.perf_counter() - t0
            if profile:
                profile.disable()
        await connector.stop()
        await runner.cleanup()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--defer", action="store_true")
    parser.add_argument("--filter", default="", help="only show functions whose path contains this")
    parser.add_argument("--callers", default="", help="also print who calls functions matching this pattern")
    args = parser.parse_args()
    profile = None if args.no_profile else cProfile.Profile()
    elapsed = asyncio.run(run(args.n, args.users, profile, args.defer))
    print(f"{args.n} messages in {elapsed:.2f} s: {elapsed / args.n * 1000:.2f} ms per message (sequential)")
    if profile:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
        if args.filter:
            stats.print_stats(args.filter, args.top)
        else:
            stats.print_stats(args.top)
        if args.callers:
            stats.print_callers(args.callers)
        print(out.getvalue())


if __name__ == "__main__":
    main()
