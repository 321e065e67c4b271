"""Our bot exactly as `python -m bot` serves it, with optional gateway switches for benchmarks.

    python bench/bot_server.py --defer-turns

Settings come from the environment as for `python -m bot`; `--defer-turns` turns on
ChannelGateway.defer_turns (acknowledge authenticated messages, then run their turns).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import web

from bot.app import SERVICES, create_app
from bot.config import Settings
from bot.logs import configure_logging


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--defer-turns", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    app[SERVICES].gateway.defer_turns = args.defer_turns
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
