"""`python -m tests.replicas.serve`: exactly `python -m bot` (bot.cli.main), with shorter delivery leases.

The delivery worker's lease (90 s), send timeout (30 s) and poll interval (2 s) are constants of
`bot.broadcast.delivery.WorkerSettings`; no environment variable reaches them. A take-over after
a crash waits for the lease to expire, so the two-replica test shortens them here through
REPLICA_TEST_LEASE_S / REPLICA_TEST_SEND_TIMEOUT_S / REPLICA_TEST_POLL_S. Everything else is the
real service: settings from the environment, create_app, the scheduler and the worker.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

from bot.broadcast.delivery import DeliveryWorker, WorkerSettings
from bot.broadcast.feature import BroadcastFeature
from bot.cli import main


def _shorten_worker_timings() -> None:
    lease = float(os.environ.get("REPLICA_TEST_LEASE_S", "90"))
    send_timeout = float(os.environ.get("REPLICA_TEST_SEND_TIMEOUT_S", str(min(30.0, lease / 2))))
    poll = float(os.environ.get("REPLICA_TEST_POLL_S", "2"))
    original = BroadcastFeature.new_worker

    def new_worker(self: BroadcastFeature, **kwargs: Any) -> DeliveryWorker:
        if kwargs.get("worker_settings") is None:
            kwargs["worker_settings"] = WorkerSettings(
                concurrency=self.settings.delivery_concurrency,
                lease=timedelta(seconds=lease),
                send_timeout=send_timeout,
                poll_interval=poll,
                stop_grace=send_timeout + 1,
            )
        return original(self, **kwargs)

    BroadcastFeature.new_worker = new_worker  # type: ignore[method-assign]


if __name__ == "__main__":
    _shorten_worker_timings()
    sys.exit(main())
