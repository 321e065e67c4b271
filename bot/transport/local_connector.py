"""A local Bot Connector over HTTP: receives the bot's replies and proactive messages.

It is the channel behind `python -m bot chat`, and tests and benchmarks use it in place of
Microsoft's cloud, with optional delays and injected faults (429 with Retry-After, 5xx, 403).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FaultHook = Callable[[str, dict[str, Any]], Awaitable[web.Response | None] | web.Response | None]


@dataclass
class Received:
    """One activity the connector accepted."""

    conversation_id: str
    activity: dict[str, Any]
    at: float  # time.monotonic() when accepted
    reply_to: str | None = None


@dataclass
class LocalConnector:
    """Collects activities per conversation; `fault` may answer a request instead of accepting it."""

    delay: float = 0.0
    fault: FaultHook | None = None
    received: list[Received] = field(default_factory=list)
    updated: list[Received] = field(default_factory=list)
    # The roster API: conversation (team) id -> its members as Teams returns them (id, name, aadObjectId).
    rosters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roster_reads: int = 0  # PUTs: a card replaced in place (reply_to: its id)
    attempts: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations/{cid}/activities", self._post_activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post_activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put_activity)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_get("/v3/conversations/{cid}/members", self._members)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://{host}:{bound}/"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # ---- queries used by tests and the terminal chat -------------------------------------

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [r.activity for r in self.received if conversation_id in (None, r.conversation_id)]

    def per_conversation(self) -> dict[str, list[Received]]:
        grouped: dict[str, list[Received]] = defaultdict(list)
        for r in self.received:
            grouped[r.conversation_id].append(r)
        return grouped

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until `predicate()` holds (checked on every accepted activity)."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        await asyncio.wait_for(future, within)

    async def wait_for_count(self, count: int, within: float = 10.0) -> None:
        await self.wait_for(lambda: len(self.received) >= count, within)

    # ---- handlers ----------------------------------------------------------------------

    async def _maybe_fault(self, cid: str, body: dict[str, Any]) -> web.Response | None:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fault is None:
            return None
        result = self.fault(cid, body)
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[return-value]

    async def _post_activity(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        fault = await self._maybe_fault(cid, body)
        if fault is not None:
            return fault
        activity_id = f"act-{next(self._ids)}"
        self.received.append(Received(cid, body, time.monotonic(), request.match_info.get("aid")))
        self._notify()
        return web.json_response({"id": activity_id}, status=200)

    async def _put_activity(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        self.updated.append(Received(request.match_info["cid"], body, time.monotonic(), request.match_info["aid"]))
        return web.json_response({"id": request.match_info["aid"]}, status=200)

    async def _members(self, request: web.Request) -> web.Response:
        self.roster_reads += 1
        members = self.rosters.get(request.match_info["cid"])
        if members is None:  # as Teams answers for a team the bot is not in
            return web.json_response({"error": {"code": "BotNotInConversationRoster"}}, status=403)
        return web.json_response(members, status=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        return web.json_response({"id": f"conv-{next(self._ids)}", "activityId": ""}, status=201)

    def _notify(self) -> None:
        still = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            if predicate():
                future.set_result(None)
            else:
                still.append((predicate, future))
        self._waiters = still
