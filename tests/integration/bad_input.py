"""What the bad-input tests send and how they read the answer: unstorable text, deep JSON, the error format."""
from __future__ import annotations

NUL, SURROGATE = "bad\u0000text", "bad\ud800text"


def error_of(response, *statuses: int) -> dict:
    """The error of a JSON error answer with one of ``statuses``."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] and error["message"]
    return error


def deep_json(depth: int) -> str:
    return '{"items": ' + "[" * depth + "]" * depth + ', "store_location": "a", "delivery_location": "b"}'
