"""Beat's liveness: a heartbeat file touched on every scheduler tick, and the check that reads it.

A beat process can be alive and schedule nothing (stuck publishing, say); the file's age tells.
``python -m saga_workers.beat_health`` exits 0 when the heartbeat is fresh (compose and k8s probes).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

DEFAULT_MAX_AGE = 30.0


def heartbeat_path() -> Path:
    """BEAT_HEARTBEAT_FILE, else ``beat.heartbeat`` in RUN_DIR (devstack) or the temporary folder."""
    explicit = os.environ.get("BEAT_HEARTBEAT_FILE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("RUN_DIR") or "/tmp") / "beat.heartbeat"


class HeartbeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler that touches the heartbeat file after every tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        try:
            heartbeat_path().touch()
        except OSError:  # a read-only folder must not stop the schedule; the check will say so
            pass
        return interval


def heartbeat_age(path: Path | None = None) -> float | None:
    """Seconds since the last tick, or None when beat never ticked."""
    try:
        return time.time() - (path or heartbeat_path()).stat().st_mtime
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when beat ticked within ``--max-age`` seconds, 1 otherwise (with the reason)."""
    parser = argparse.ArgumentParser(prog="python -m saga_workers.beat_health", description=__doc__)
    parser.add_argument("--max-age", type=float, default=float(os.environ.get("BEAT_HEARTBEAT_MAX_AGE", DEFAULT_MAX_AGE)))
    args = parser.parse_args(argv)
    age = heartbeat_age()
    if age is None or age > args.max_age:
        print(f"beat unhealthy: {heartbeat_path()} " + ("missing" if age is None else f"{age:.0f}s old"),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
