"""How the stack tells that a process is not only running but able to do its work."""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from devstack.procs import port_open


@dataclass(frozen=True)
class Health:
    """One readiness check: ``http`` (GET answers 200), ``port`` (accepts TCP), ``celery``
    (the worker node answers a broadcast ping) or ``fresh`` (a heartbeat file was touched lately)."""

    kind: str
    target: str = ""

    @staticmethod
    def http(url: str) -> Health:
        return Health("http", url)

    @staticmethod
    def port(port: int) -> Health:
        return Health("port", str(port))

    @staticmethod
    def celery(node: str) -> Health:
        return Health("celery", node)

    @staticmethod
    def fresh(path: str, max_age: float) -> Health:
        return Health("fresh", f"{path}:{max_age:g}")


def file_fresh(target: str) -> bool:
    """True when the file of a ``fresh`` check (``path:max_age``) changed within ``max_age`` seconds."""
    path, _, max_age = target.rpartition(":")
    try:
        return time.time() - os.stat(path).st_mtime <= float(max_age)
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when GET ``url`` answers 200."""
    try:
        import requests
    except ImportError:  # `make status` without the virtualenv
        return False
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


class CeleryPinger:
    """Pings worker nodes over the broker, the way ``celery inspect ping`` does, without a subprocess."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self._app: Any = None

    def answering(self, nodes: Iterable[str], timeout: float = 1.0) -> set[str]:
        """The subset of ``nodes`` that answered."""
        nodes = list(nodes)
        if not nodes:
            return set()
        if self._app is None:
            try:
                from celery import Celery
            except ImportError:  # `make status` without the virtualenv: no answer can be asked for
                return set()
            self._app = Celery("devstack-ping", broker=self.broker_url)
        try:
            replies = self._app.control.ping(destination=nodes, timeout=timeout)
        except Exception:  # noqa: BLE001 - broker not reachable yet: nobody answered
            return set()
        return {node for reply in replies for node in reply}

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def passing(checks: dict[str, Health], pinger: CeleryPinger) -> set[str]:
    """The names in ``checks`` whose check passes now."""
    ok = {name for name, health in checks.items()
          if (health.kind == "http" and http_ok(health.target))
          or (health.kind == "port" and port_open(int(health.target)))
          or (health.kind == "fresh" and file_fresh(health.target))}
    nodes = {health.target: name for name, health in checks.items() if health.kind == "celery"}
    ok.update(nodes[node] for node in pinger.answering(nodes) if node in nodes)
    return ok
