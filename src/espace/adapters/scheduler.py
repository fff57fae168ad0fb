"""The deadline scheduler: APScheduler calls one application method.

It is never the source of truth: each run asks the deadlines view, which is
built from the log, so a restart after downtime catches up on everything
that fell due. Misfires are coalesced into one run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = structlog.get_logger("espace.scheduler")


def run_scheduler(
    run_deadlines: Callable[[], object],
    *,
    interval_seconds: float = 60.0,
    stop: threading.Event | None = None,
) -> None:
    """Run the deadline job now, then every ``interval_seconds``, until stopped."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        run_deadlines,
        IntervalTrigger(seconds=interval_seconds, timezone="UTC"),
        id="deadlines",
        name="espace deadlines",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=_now(),
    )
    if stop is not None:
        if stop.is_set():
            return
        started = threading.Event()
        scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)

        def _watch() -> None:
            stop.wait()
            started.wait()
            scheduler.shutdown(wait=True)

        threading.Thread(target=_watch, name="scheduler-stop", daemon=True).start()
    log.info("scheduler.started", interval_seconds=interval_seconds)
    scheduler.start()
    log.info("scheduler.stopped")


def _now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)
