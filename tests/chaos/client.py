"""The gateway as clients call it: a user with a token, and HTTP calls retried on 5xx and dropped connections."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class Actor:
    """A user of the platform and the token it calls with."""

    user_id: str
    role: str
    token: str
    card_token: str = ""


class Api:
    """The gateway over HTTP; transient failures (5xx, dropped connections) are retried within a budget."""

    def __init__(self, base_url: str, stats: Counter, aborted: threading.Event) -> None:
        self.base_url, self.stats, self.aborted = base_url, stats, aborted
        self._local = threading.local()
        self._lock = threading.Lock()

    def _count(self, what: str) -> None:
        with self._lock:
            self.stats[what] += 1

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, actor: Actor, body: Any = None, key: str | None = None,
             budget: float = 40.0) -> requests.Response | None:
        """The first non-5xx answer, or None when the budget ran out."""
        headers = {"Authorization": f"Bearer {actor.token}"}
        if key:
            headers["Idempotency-Key"] = key
        deadline, pause = time.monotonic() + budget, 0.3
        while not self.aborted.is_set():
            try:
                response = self._session().request(method, self.base_url + path, json=body, headers=headers,
                                                   timeout=10)
                if response.status_code < 500:
                    return response
                self._count("gateway 5xx (retried)")
            except requests.RequestException:
                self._count("gateway unreachable (retried)")
                self._local.session = requests.Session()
            if time.monotonic() + pause > deadline:
                self._count("gave up after retries")
                return None
            time.sleep(pause)
            pause = min(pause * 1.6, 3.0)
        return None
