"""The command line: a busy port is one line that names it, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT


def test_a_busy_port_prints_one_line_naming_it_and_exits_non_zero(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MicrosoftApp")}
        env.pop("DATABASE_URL", None)
        env.update(PORT=str(port), HOST="127.0.0.1", DATA_DIR=str(tmp_path), BROADCAST_BACKGROUND="0")
        done = subprocess.run(
            [sys.executable, "-m", "bot"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert str(port) in lines[0]
    assert "Traceback" not in done.stderr
