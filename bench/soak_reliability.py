"""Reliability soak (issue 16): hostile bodies, kill -9 under a slow and flaky connector, a connector outage.

Not run in CI: it takes about 8 minutes (`--short`: about 2) and only uses loopback. Each phase
starts `python -m bot` as served (DEFER_TURNS on, fresh SQLite database) on 127.0.0.1, with a local
Bot Connector in this process, and prints its figures:

  A  10,000 mixed bodies, about a third invokes (known and unknown names, odd values), the rest
     messages with odd mentions, card submits and text, and malformed bodies: how many got a 5xx.
  B  messages from 4 senders (each pausing 0.2 s after its answer) while the bot is killed with SIGKILL 20 times at random moments and
     restarted, the connector answering after 50 ms to 1.5 s and failing 15% of the calls (503, or
     429 with Retry-After): acknowledged messages lost (no reply at the end) and duplicate replies
     per crash.
  C  messages during a Bot Connector outage of 2 minutes (its port closed): acknowledged messages
     whose reply never arrived.

    python bench/soak_reliability.py                   # everything
    python bench/soak_reliability.py --short           # 2,000 bodies, 5 kills, a 30 s outage
    python bench/soak_reliability.py --phases b --kills 10 --root /tmp/old-checkout   # compare versions
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.transport.local_connector import LocalConnector  # noqa: E402

BOT_ID = "28:guidance-bot"
QUESTIONS = [
    "Måste jag ha VPN?",
    "Får jag jobba hemifrån?",
    "Can I work from home?",
    "Vem betalar min kontorsstol?",
    "hjälp",
    "Hur länge gäller distansarbete?",
]
INVOKE_NAMES = [
    "adaptiveCard/action",
    "task/fetch",
    "task/submit",
    "composeExtension/query",
    "composeExtension/submitAction",
    "composeExtension/fetchTask",
    "signin/verifyState",
    "signin/tokenExchange",
    "actionableMessage/executeAction",
    "fileConsent/invoke",
    "config/fetch",
    "tab/fetch",
    "healthCheck",
    "foo",
    "",
    None,
    5,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the bot process ----------------------------------------------------------------------------


@dataclass
class BotProcess:
    root: Path
    port: int
    data_dir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MicrosoftApp")}
        env.pop("DATABASE_URL", None)
        env.update(
            PYTHONUNBUFFERED="1",
            PYTHONPATH=str(self.root),
            PORT=str(self.port),
            HOST="127.0.0.1",
            DATA_DIR=str(self.data_dir),
            CONTENT_DIR=str(self.root / "content"),
            LOG_LEVEL="WARNING",
            BROADCAST_BACKGROUND="0",
            **self.env_extra,
        )
        self.starts += 1
        log = open(self.data_dir / f"bot-{self.starts}.log", "wb")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=self.root, env=env, stdout=subprocess.DEVNULL, stderr=log
        )

    async def wait_ready(self, within: float = 60.0) -> None:
        until = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < until:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"bot exited with {self.proc.returncode}; see {self.data_dir}")
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError("bot did not become ready")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


def message(service_url: str, text: str, user: int, **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "timestamp": "2026-11-23T09:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:soak-{user}", "name": "Soak", "aadObjectId": f"00000000-0000-0000-0000-{user:012d}"},
        "conversation": {"id": f"a:soak-{user}", "conversationType": "personal", "tenantId": "t1"},
        "recipient": {"id": BOT_ID, "name": "Distansstöd"},
        "text": text,
        "locale": "sv-SE",
        "channelData": {"tenant": {"id": "t1"}},
    }
    activity.update(extra)
    return activity


def replies_per_message(connector: LocalConnector) -> Counter[str]:
    return Counter(r.reply_to for r in connector.received if r.reply_to)


# ---- phase A: hostile bodies --------------------------------------------------------------------


def odd_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1.5e308, ""])
    if kind == 2:
        return rng.choice(["x", "<at>Distansstöd</at>", "\u202e", "🏠", "ÅÄÖ", "a" * rng.randrange(1, 3000)])
    if kind == 3:
        return rng.randrange(-5, 100)
    if kind == 4:
        return rng.choice([{}, [], {"action": None}, {"action": {"type": "Action.Execute", "verb": 5}}])
    if kind in (5, 6):
        return {
            rng.choice(["action", "verb", "data", "op", "report_id", "question", "x"]): odd_value(rng, depth + 1)
            for _ in range(rng.randrange(4))
        }
    return [odd_value(rng, depth + 1) for _ in range(rng.randrange(3))]


def odd_entities(rng: random.Random) -> Any:
    choices: list[Any] = [
        [{"type": "mention", "mentioned": ""}],
        [{"type": "mention", "mentioned": [{"id": BOT_ID}]}],
        [{"type": "mention", "mentioned": {"id": BOT_ID, "name": "Distansstöd"}, "text": "<at>@Distansstöd</at>"}],
        [{"type": "mention", "mentioned": {"id": 5}, "text": 7}],
        [{"type": None}],
        [None, 5, "x"],
        "not a list",
        [{"type": "mention"}],
    ]
    return rng.choice(choices)


def hostile_body(rng: random.Random, service_url: str, i: int) -> bytes:
    kind = i % 3
    if kind == 0:  # an invoke
        activity = message(service_url, "", rng.randrange(50), type="invoke")
        activity.pop("text")
        name = rng.choice(INVOKE_NAMES)
        if name is not None:
            activity["name"] = name
        if rng.random() < 0.8:
            activity["value"] = odd_value(rng)
        return json.dumps(activity).encode()
    if kind == 1:  # a message with odd parts
        activity = message(service_url, rng.choice([*QUESTIONS, "<at>Distansstöd</at> hjälp", ""]), rng.randrange(50))
        activity["conversation"]["conversationType"] = rng.choice(["personal", "channel", "groupChat", None])
        for _ in range(rng.randrange(4)):
            part = rng.choice(["entities", "value", "text", "from", "recipient", "locale", "replyToId", "channelData"])
            activity[part] = odd_entities(rng) if part == "entities" else odd_value(rng)
        return json.dumps(activity, ensure_ascii=False).encode("utf-8", "surrogatepass")
    junk = rng.randrange(6)  # a malformed body
    if junk == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if junk == 1:
        return json.dumps(odd_value(rng)).encode()
    if junk == 2:
        return b'{"type": "message", "serviceUrl": 5, "conversation": {"id": "c"}}'
    if junk == 3:
        return json.dumps(message(service_url, "x" * 300_000, 1)).encode()  # over MAX_BODY_BYTES
    if junk == 4:
        activity = message(service_url, "hej", 1, type=rng.choice(["conversationUpdate", "event", "x", ""]))
        activity["membersAdded"] = odd_value(rng)
        return json.dumps(activity).encode()
    return b'{"type":'


async def phase_a(root: Path, bodies: int, concurrency: int = 16) -> dict[str, Any]:
    connector = LocalConnector()
    await connector.start()
    rng = random.Random(16)
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="soak-a-") as tmp:
        bot = BotProcess(root, free_port(), Path(tmp))
        bot.start()
        try:
            await bot.wait_ready()
            queue = [hostile_body(rng, connector.url, i) for i in range(bodies)]
            started = time.monotonic()
            timeout = aiohttp.ClientTimeout(total=30)
            async with aiohttp.ClientSession(timeout=timeout) as session:

                async def sender() -> None:
                    while queue:
                        body = queue.pop()
                        try:
                            async with session.post(
                                bot.url, data=body, headers={"Content-Type": "application/json"}
                            ) as response:
                                await response.read()
                                statuses[response.status] += 1
                        except (aiohttp.ClientError, TimeoutError) as exc:
                            failures[type(exc).__name__] += 1

                await asyncio.gather(*(sender() for _ in range(concurrency)))
            elapsed = time.monotonic() - started
            alive = bot.proc is not None and bot.proc.poll() is None
            errors = _error_lines(Path(tmp))
        finally:
            bot.stop()
            await connector.stop()
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    print(
        f"A  {bodies} bodies ({bodies // 3 + (bodies % 3 > 0)} invokes) in {elapsed:.0f} s: "
        f"{server_errors} x 5xx, {sum(failures.values())} without an answer {dict(failures) or ''}, "
        f"bot alive afterwards: {alive}, error-level log lines: {errors}"
    )
    print(f"   statuses: {dict(sorted(statuses.items()))}")
    return {"5xx": server_errors, "no_answer": sum(failures.values()), "errors": errors}


def _error_lines(data_dir: Path) -> int:
    """Error-level lines in the bot's logs; each is shown (its event and the last line of its traceback)."""
    count = 0
    for path in sorted(data_dir.glob("bot-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"level":"error"' in line or '"level":"critical"' in line:
                count += 1
                try:
                    record = json.loads(line)
                    last = (record.get("exc") or "").strip().splitlines()[-1:] or [""]
                    print(f"   {path.name}: {record.get('event')} {last[0][:200]}")
                except ValueError:
                    print(f"   {path.name}: {line[:200]}")
    return count


# ---- phase B: kill -9 with a slow, flaky connector -----------------------------------------------


class FlakyConnector(LocalConnector):
    """Answers after `low`..`high` seconds; fails `fault_rate` of the calls with 503 or 429 + Retry-After."""

    def __init__(self, low: float, high: float, fault_rate: float, seed: int = 7) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.low, self.high, self.fault_rate = low, high, fault_rate
        self.fault = self._flaky
        self.faults = 0
        self.in_progress = 0  # calls received and not yet answered

    async def _flaky(self, cid: str, body: dict[str, Any]) -> web.Response | None:
        self.in_progress += 1
        body["_soak_started"] = time.monotonic()  # the same dict is what `received` keeps
        try:
            await asyncio.sleep(self.rng.uniform(self.low, self.high))
        finally:
            self.in_progress -= 1
        if self.rng.random() < self.fault_rate:
            self.faults += 1
            if self.rng.random() < 0.5:
                return web.json_response({"error": {"code": "ServiceError"}}, status=503)
            return web.json_response({"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "0.5"})
        return None


@dataclass
class Traffic:
    """Messages sent and acknowledged (201), by id."""

    acknowledged: set[str] = field(default_factory=set)
    sent: int = 0
    refused: Counter[str] = field(default_factory=Counter)


async def send_messages(
    bot: BotProcess, service_url: str, traffic: Traffic, stop: asyncio.Event, senders: int, pause: float
) -> None:
    counter = iter(range(10**9))
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def sender(n: int) -> None:
            rng = random.Random(n)
            while not stop.is_set():
                i = next(counter)
                activity = message(service_url, rng.choice(QUESTIONS), i % 400)
                traffic.sent += 1
                try:
                    async with session.post(bot.url, json=activity) as response:
                        await response.read()
                        if response.status == 201:
                            traffic.acknowledged.add(activity["id"])
                        else:
                            traffic.refused[str(response.status)] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    traffic.refused[type(exc).__name__] += 1
                    await asyncio.sleep(0.1)
                if pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(sender(n) for n in range(senders)))


async def wait_for_replies(connector: LocalConnector, ids: set[str], within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if ids <= set(replies_per_message(connector)):
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def phase_b(root: Path, kills: int, lease: float) -> dict[str, Any]:
    connector = FlakyConnector(0.05, 1.5, 0.15)
    await connector.start()
    rng = random.Random(20)
    traffic = Traffic()
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="soak-b-") as tmp:
        bot = BotProcess(root, free_port(), Path(tmp), {"TURN_LEASE_SECONDS": str(lease)})
        bot.start()
        try:
            await bot.wait_ready()
            load = asyncio.create_task(send_messages(bot, connector.url, traffic, stop, senders=4, pause=0.2))
            in_flight = 0
            kill_times: list[float] = []
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(2.0, 6.0))
                in_flight += connector.in_progress  # these reach the user whatever the bot does next
                kill_times.append(time.monotonic())
                bot.kill9()
                bot.start()
                await bot.wait_ready()
            await asyncio.sleep(3.0)
            stop.set()
            await load
            waited = await wait_for_replies(connector, traffic.acknowledged, within=120)
            errors = _error_lines(Path(tmp))
        finally:
            bot.stop()
            await connector.stop()
    replies = replies_per_message(connector)
    lost = len(traffic.acknowledged - set(replies))
    duplicates = sum(n - 1 for n in replies.values() if n > 1)
    # A reply the connector was still working on when the bot died reaches the user, and the bot cannot
    # know it did: it is sent again after the restart. Those duplicates are the protocol's; others are ours.
    caught = sum(
        1
        for r in connector.received
        if any(r.activity.get("_soak_started", r.at) < k < r.at for k in kill_times)
        and replies.get(r.reply_to or "", 0) > 1
    )
    print(
        f"B  {kills} x kill -9, connector 50-1500 ms with {connector.faults} faults (503 / 429): "
        f"{traffic.sent} sent, {len(traffic.acknowledged)} acknowledged, {lost} lost, "
        f"{duplicates} duplicate replies = {duplicates / max(1, kills):.2f} per crash "
        f"(waited {waited:.0f} s for the last replies; error-level log lines: {errors})"
    )
    print(
        f"   replies in flight at the kills (sent, not yet answered by the connector): {in_flight} "
        f"= {in_flight / max(1, kills):.2f} per crash; duplicates of a reply accepted while in flight at a "
        f"kill: {caught}; other duplicates: {duplicates - caught} = {(duplicates - caught) / max(1, kills):.2f} per crash"
    )
    print(f"   not acknowledged (the bot was down): {dict(traffic.refused)}")
    return {"lost": lost, "duplicates": duplicates, "in_flight": in_flight, "other_duplicates": duplicates - caught}


# ---- phase C: a connector outage ------------------------------------------------------------------


async def phase_c(root: Path, outage: float) -> dict[str, Any]:
    connector = LocalConnector(delay=0.05)
    connector_port = free_port()
    await connector.start(port=connector_port)
    traffic = Traffic()
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="soak-c-") as tmp:
        bot = BotProcess(root, free_port(), Path(tmp))
        bot.start()
        try:
            await bot.wait_ready()
            load = asyncio.create_task(send_messages(bot, connector.url, traffic, stop, senders=2, pause=0.5))
            await asyncio.sleep(10)
            await connector.stop()  # the connector's port is closed: every reply is refused
            down_at = time.monotonic()
            during = len(traffic.acknowledged)
            await asyncio.sleep(outage)
            during = len(traffic.acknowledged) - during
            await connector.start(port=connector_port)
            up_after = time.monotonic() - down_at
            await asyncio.sleep(10)
            stop.set()
            await load
            waited = await wait_for_replies(connector, traffic.acknowledged, within=120)
            errors = _error_lines(Path(tmp))
        finally:
            bot.stop()
            await connector.stop()
    lost = len(traffic.acknowledged - set(replies_per_message(connector)))
    print(
        f"C  a {up_after:.0f} s connector outage: {len(traffic.acknowledged)} acknowledged "
        f"({during} during the outage), {lost} replies lost "
        f"(the last arrived {waited:.0f} s after sending stopped; error-level log lines: {errors})"
    )
    return {"lost": lost}


async def main_async(args: argparse.Namespace, root: Path) -> int:
    print(f"soak of {root} ({'short' if args.short else 'full'})")
    if "a" in args.phases:
        await phase_a(root, args.bodies or (2000 if args.short else 10_000))
    if "b" in args.phases:
        await phase_b(root, args.kills or (5 if args.short else 20), args.lease)
    if "c" in args.phases:
        await phase_c(root, args.outage or (30.0 if args.short else 120.0))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="2,000 bodies, 5 kills, a 30 s outage")
    parser.add_argument("--phases", default="abc", help="which phases to run (a, b, c)")
    parser.add_argument("--bodies", type=int, default=0)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--outage", type=float, default=0.0, help="seconds")
    parser.add_argument("--lease", type=float, default=3.0, help="TURN_LEASE_SECONDS in phase B")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose bot is run")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args, Path(args.root).resolve()))


if __name__ == "__main__":
    raise SystemExit(main())
