"""Run a WSGI app on a loopback port in a thread: real HTTP for tests, stoppable and restartable."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class ThreadedServer:
    """A WSGI app served on ``127.0.0.1:port`` from a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        self.app, self.port = app, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen and serve (no-op when already serving)."""
        if self._server is not None:
            return
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"wsgi-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until ``start`` (an outage)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    @contextmanager
    def down(self) -> Iterator[None]:
        """An outage for the length of the block: connections are refused, then served again."""
        self.stop()
        try:
            yield
        finally:
            self.start()
