"""Helpers to find binaries, free ports, and wait for things to answer."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import signal
import time
from collections.abc import Callable
from pathlib import Path


def find_binary(name: str) -> str:
    """Locate ``name`` on PATH or in Debian's versioned PostgreSQL folders."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise FileNotFoundError(f"{name} not found: install it (make up installs PostgreSQL and Redis)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check`` until it is true; raise TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - anything short of success means "not yet"
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")


def as_postgres_user() -> list[str]:
    """Postgres refuses to run as root: prefix commands with runuser when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def live_processes(*, parent: int | None = None, group: int | None = None) -> list[int]:
    """Live (not zombie) pids whose parent is ``parent`` or whose process group is ``group``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, ppid, pgid = fields[0], fields[1], fields[2]
        if state in ("Z", "X"):
            continue
        if (parent is not None and ppid == str(parent)) or (group is not None and pgid == str(group)):
            found.append(int(entry.name))
    return found


def send_signal(pid: int, sig: signal.Signals) -> None:
    """Signal one process; gone already is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def send_group_signal(pgid: int, sig: signal.Signals) -> None:
    """Signal a whole process group; gone already is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
