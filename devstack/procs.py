"""Helpers to find binaries, free ports, and wait for things to answer."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import time
from collections.abc import Callable


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
