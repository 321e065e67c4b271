"""Instructions our bot executes per message, counted by callgrind: a figure that does not drift.

The load bench's figures move with the shared machine's speed (up to 2x within minutes). Counting
instructions does not: the same code, inputs and environment give the same count within about 1%,
whatever else the machine is doing. Use it to compare two versions of the code:

    python bench/turn_instructions.py                 # this checkout
    python bench/turn_instructions.py --root ../other # another checkout, same driver

It starts `python -m bot` under `valgrind --tool=callgrind` with instrumentation off (as the bench
serves it: real content, a fresh SQLite database, DEFER_TURNS=1, hash seed 0), sends warm-up messages
one at a time, switches instrumentation on with callgrind_control, sends N more (the load bench's
Teams-shaped activities, answered with a card through the LocalConnector), switches it off and
prints the count per message. Kernel time (system calls) is not counted. Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load_bench import BotProcess, TimingConnector, activity, free_port, wait_listening  # noqa: E402

USERS = 50


async def count(root: Path, messages: int, warmup: int) -> float:
    connector = TimingConnector()
    await connector.start()
    connector.expect_card = True
    # vgdb finds the process by user and host names; the bot's HOST (its bind address) names the host.
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "root"
    names = {"USER": user, "LOGNAME": user, "HOST": "127.0.0.1"}
    control_env = {**os.environ, **names}
    try:
        with tempfile.TemporaryDirectory(prefix="turn-instructions-") as tmp:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MicrosoftApp")}
            env.pop("DATABASE_URL", None)
            env.update(names)
            env.update(
                PYTHONUNBUFFERED="1",
                PYTHONPATH=str(root),
                PYTHONHASHSEED="0",
                PORT=str(port),
                DATA_DIR=f"{tmp}/data",
                CONTENT_DIR=str(root / "content"),
                DEFER_TURNS="1",
            )
            out = Path(tmp) / "callgrind.out"
            cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
            cmd += [sys.executable, "-m", "bot"]
            log_path = Path(tmp) / "bot.log"
            proc = _start(cmd, root, env, log_path)
            bot = BotProcess("ours", port, proc, log_path)
            try:
                await wait_listening(bot, within=600)
                loop = asyncio.get_running_loop()
                async with aiohttp.ClientSession() as session:

                    async def one(seq: int) -> None:
                        body = json.dumps(activity(connector.url, seq, seq % USERS, "ir")).encode()
                        future = loop.create_future()
                        connector.pending[f"ir-{seq}"] = future
                        headers = {"Content-Type": "application/json"}
                        async with session.post(bot.url, data=body, headers=headers) as response:
                            await response.read()
                            if response.status not in (200, 201):
                                raise RuntimeError(f"the bot answered {response.status}")
                        _, ok = await asyncio.wait_for(future, 120)
                        if not ok:
                            raise RuntimeError("the reply was not an answer card")

                    for seq in range(warmup):
                        await one(seq)
                    _control(proc.pid, "on", control_env)
                    for seq in range(warmup, warmup + messages):
                        await one(seq)
                    _control(proc.pid, "off", control_env)
            finally:
                bot.stop()
                proc.wait(120)
            total = 0
            for part in out.parent.glob(out.name + "*"):
                for line in part.read_text(errors="replace").splitlines():
                    if line.startswith("totals:"):
                        total += int(line.split()[1])
                        break
            if total == 0:
                raise RuntimeError("callgrind counted nothing: was instrumentation switched on?")
            return total / messages
    finally:
        await connector.stop()


def _start(cmd: list[str], root: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(cmd, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def _control(pid: int, state: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["callgrind_control", "-i", state, str(pid)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or "OK" not in done.stdout:
        raise RuntimeError(f"callgrind_control -i {state} failed: {done.stdout.strip()} {done.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose bot is measured")
    parser.add_argument("-n", "--messages", type=int, default=200, help="counted messages")
    parser.add_argument("--warmup", type=int, default=100, help="messages before counting starts")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("needs valgrind (callgrind and callgrind_control)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    per_message = asyncio.run(count(args.root.resolve(), args.messages, args.warmup))
    print(
        f"{args.root.resolve()}: {per_message / 1e6:.3f} million instructions per message "
        f"({args.messages} messages after {args.warmup} warm-up, {time.perf_counter() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
