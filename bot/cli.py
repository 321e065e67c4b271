"""Command-line entry points (`python -m bot`, or `distansstod` when installed); each one goes through the same
code as the service."""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import socket
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings
from bot.content_errors import ContentError, ContentProblem
from bot.logs import configure_logging

if TYPE_CHECKING:
    from bot.storage import migrate

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Teams guidance bot for remote work and the return to the office.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bot's HTTP service (the default)")
    sub.add_parser("chat", help="talk to the bot in this terminal, through the same adapter pipeline")
    check = sub.add_parser("check-content", help="validate everything under CONTENT_DIR and exit non-zero on errors")
    check.add_argument("--strict", action="store_true", help="entries past their review_date are errors, not warnings")
    ask = sub.add_parser("ask", help="answer questions from the knowledge base")
    ask.add_argument("--json", action="store_true", help="print one JSON object a line")
    ask.add_argument("question", nargs="*", help="the question, or - to read questions from stdin, one a line")
    calibrate = sub.add_parser(
        "calibrate", help="refit the confidence model from labelled questions (needs the dev tools)"
    )
    calibrate.add_argument(
        "files",
        nargs="*",
        help="labelled question files (default: CONTENT_DIR/calibration/*.yaml and tests/knowledge/qa-heldout*.yaml)",
    )
    calibrate.add_argument("--output", help="where to write the model (default: CONTENT_DIR/confidence.yaml)")
    sub.add_parser(
        "export-learned",
        help="write the learned phrasings into the content YAML (with who added them and when), then clear them",
    )
    migrate_cmd = sub.add_parser(
        "migrate", help="upgrade the database to the newest schema (serve does it at start-up)"
    )
    migrate_cmd.add_argument(
        "--sql", action="store_true", help="print the SQL for an empty database instead of running it"
    )
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
            return check_content(settings, strict=args.strict)
        if command == "calibrate":
            return refit_confidence(settings, args.files, args.output)
        if command == "migrate":
            return migrate_database(settings, sql=args.sql)
        if command == "export-learned":
            return asyncio.run(export_learned(settings))
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


def check_content(settings: Settings, *, strict: bool = False) -> int:
    import datetime
    from zoneinfo import ZoneInfo

    from bot.app import build_services
    from bot.knowledge.checks import tense_problems

    services = build_services(settings)
    # Only here, not at start-up: the check depends on the date, and a period ending must not stop the service.
    today = datetime.datetime.now(ZoneInfo(settings.timezone)).date()
    tense = tense_problems(services.knowledge.entries, today)
    if tense:
        raise ContentError(tense)
    # Stale content is shown where it is edited: a warning naming the owner, an error with --strict.
    stale = [
        ContentProblem(e.file, e.id, "review_date", f"review date {e.review_date} has passed (owner: {e.owner})")
        for e in services.knowledge.due_for_review(today)
    ]
    if stale and strict:
        raise ContentError(stale)
    for problem in stale:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"content OK: {len(services.knowledge.entries)} knowledge entries in {settings.content_dir}")
    return 0


async def export_learned(settings: Settings) -> int:
    """Move the learned phrasings from the database (DATABASE_URL) into CONTENT_DIR, for review in git."""
    from bot.learning.export import export_learned as export
    from bot.learning.store import LearningStore
    from bot.storage import Database

    db = Database(settings.effective_database_url)
    await db.open()
    try:
        done = await export(LearningStore(db), settings.content_dir, settings.timezone)
    finally:
        await db.close()
    print(f"exported {done.phrasings} learned phrasings and {done.outside} questions outside the guidance")
    for name in done.files:
        print(f"  wrote {name}")
    return 0


def refit_confidence(settings: Settings, files: Sequence[str], output: str | None) -> int:
    """Fit the confidence model by cross-validation and write it where serving reads it."""
    import datetime
    import pathlib

    try:
        from bot.knowledge import calibration
    except ImportError as exc:  # scikit-learn is a development dependency
        print(f"calibrate needs the development dependencies ({exc}); run scripts/setup.sh --dev", file=sys.stderr)
        return 2
    from bot.config import PROJECT_ROOT
    from bot.knowledge import load_knowledge
    from bot.knowledge.confidence import MODEL_FILE
    from bot.knowledge.labelled import labelled_files

    paths = [pathlib.Path(f) for f in files] or [
        *labelled_files(settings.content_dir),
        *sorted((PROJECT_ROOT / "tests" / "knowledge").glob("qa-heldout*.yaml")),
    ]
    knowledge = load_knowledge(settings.content_dir, with_model=False)
    questions = calibration.collect(knowledge, paths)
    fit = calibration.calibrate(questions)
    target = pathlib.Path(output) if output else settings.content_dir / MODEL_FILE
    today = datetime.datetime.now(datetime.UTC).date()
    calibration.write_model(target, calibration.final_model(questions, fit, paths, today), paths)
    in_scope = sum(q.in_scope for q in questions)
    print(
        f"{len(questions)} labelled questions ({in_scope} in scope, {len(questions) - in_scope} outside) from {len(paths)} files"
    )
    print(f"features kept by {calibration.FOLDS}-fold cross-validation: {', '.join(fit.features)}")
    print(f"C = {fit.c}, threshold = {fit.threshold:.2f}")
    print(f"cross-validated: in scope answered right {fit.answered:.3f}, outside declined {fit.declined:.3f}")
    print(calibration.reliability_table(fit.out_of_fold, fit.threshold))
    print(f"wrote {target}")
    return 0


def migrate_database(settings: Settings, *, sql: bool) -> int:
    """The upgrade the service runs at start-up, under the same lock, for a deployment step of its own."""
    from bot.storage import migrate

    if sql:
        print(migrate.upgrade_sql(settings.effective_database_url), end="")
        return 0
    upgrade = asyncio.run(_open_and_close(settings.effective_database_url))
    if upgrade.changed:
        print(f"database upgraded from {upgrade.before or 'empty'} to {upgrade.after} (head)")
    else:
        print(f"database already at {upgrade.after} (head)")
    return 0


async def _open_and_close(url: str) -> migrate.Upgrade:
    from bot.storage import Database

    db = Database(url)
    await db.open()
    await db.close()
    assert db.upgrade is not None
    return db.upgrade


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
