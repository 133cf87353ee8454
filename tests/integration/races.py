"""Calls released at the same moment, each on its own test client (so on its own connection)."""
from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def together(app: Flask, calls: list[Callable[[FlaskClient], TestResponse]]) -> list[TestResponse]:
    """Run the calls at the same moment, each on its own connection; answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[TestResponse | None] = [None] * len(calls)

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[index] = calls[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answered = [answer for answer in answers if answer is not None]
    assert len(answered) == len(calls), "a request raised instead of answering"
    return answered
