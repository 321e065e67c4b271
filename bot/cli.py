"""Command-line entry points; each one goes through the same code as the service."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import socket
import sys
from collections.abc import Iterator, Sequence

from bot.config import ConfigError, Settings
from bot.content_errors import ContentError
from bot.logs import configure_logging

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Teams guidance bot for remote work and the return to the office.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bot's HTTP service (the default)")
    sub.add_parser("chat", help="talk to the bot in this terminal, through the same adapter pipeline")
    sub.add_parser("check-content", help="validate everything under CONTENT_DIR and exit non-zero on errors")
    ask = sub.add_parser("ask", help="answer questions from the knowledge base")
    ask.add_argument("--json", action="store_true", help="print one JSON object a line")
    ask.add_argument("question", nargs="*", help="the question, or - to read questions from stdin, one a line")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    command = args.command or "serve"
    try:
        if command == "serve":
            return serve(settings)
        if command == "chat":
            from bot.terminal_chat import run_chat

            return asyncio.run(run_chat(settings))
        if command == "check-content":
            return check_content(settings)
        return ask_questions(settings, args.question, as_json=args.json)
    except ContentError as exc:
        print(f"content errors in {settings.content_dir}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1


def serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_app

    busy = port_in_use(settings.host, settings.port)
    if busy:
        print(busy, file=sys.stderr)
        return 1
    configure_logging(settings.log_level)
    app = create_app(settings)  # validates content first: refuses to start on an error
    log.info("starting", extra={"host": settings.host, "port": settings.port, "local_mode": settings.local_mode})
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None, loop=new_event_loop())
    except OSError as exc:  # taken between the check above and the bind
        if exc.errno != errno.EADDRINUSE:
            raise
        print(_busy_line(settings.host, settings.port, exc), file=sys.stderr)
        return 1
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """One line naming the port when it cannot be bound (as aiohttp binds it), else None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return None  # aiohttp reports a bad host itself
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    return _busy_line(host, port, exc)
    return None


def _busy_line(host: str, port: int, exc: OSError) -> str:
    return f"cannot listen on {host}:{port}: port {port} is {'already in use' if exc.errno == errno.EADDRINUSE else 'not allowed'} (set PORT to another port)"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same asyncio API with a faster loop and sockets."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def check_content(settings: Settings) -> int:
    from bot.app import build_services

    services = build_services(settings)
    print(f"content OK: {len(services.knowledge.entries)} knowledge entries in {settings.content_dir}")
    return 0


def ask_questions(settings: Settings, questions: Sequence[str], *, as_json: bool) -> int:
    from bot.knowledge import load_knowledge

    knowledge = load_knowledge(settings.content_dir)
    lines: Iterator[str]
    if list(questions) == ["-"]:
        lines = (line.rstrip("\n") for line in sys.stdin)
    elif questions:
        lines = iter([" ".join(questions)])
    else:
        print("give a question, or - to read questions from stdin", file=sys.stderr)
        return 2
    for question in lines:
        answer = knowledge.answer(question)
        if as_json:
            record = {
                "question": question,
                "answered": answer.answered,
                "id": answer.entry.id if answer.answered and answer.entry else None,
                "score": round(answer.score, 4),
                "text": answer.text,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(answer.text)
            print()
    return 0
