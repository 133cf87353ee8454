"""The one error format: ``{"error": {"code", "message", "details"}}`` with a fitting status.

No framework here: domain and validation code raise these; ``campus_common.web`` renders them.
"""
from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class ApiError(Exception):
    """An error a client can act on; rendered as the JSON error body with ``status``."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status or self.status
        self.code = code or self.code
        self.details = details


class ValidationError(ApiError):
    status, code = 422, "validation_error"


class NotFound(ApiError):
    status, code = 404, "not_found"


def found(thing: T | None, kind: str, ident: object) -> T:
    """``thing``, or a 404 naming the ``kind`` and id that found nothing."""
    if thing is None:
        raise NotFound(f"{kind} {ident} not found", details={f"{kind}_id": str(ident)})
    return thing


class Conflict(ApiError):
    status, code = 409, "conflict"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The JSON body every error answer carries."""
    return {"error": {"code": code, "message": message, "details": details}}
