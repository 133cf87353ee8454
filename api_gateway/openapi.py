"""The gateway's OpenAPI 3.1 document, made by spectree from the very models that validate requests.

``documented(...)`` decorates a view: spectree validates the request against the models before the
view runs and records them for the document, so the two cannot drift. Its validation errors become
the one error format here (400 for a body that is not a JSON object, 422 naming each bad field).
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pydantic
from pydantic_core import ErrorDetails
from flask import Blueprint, jsonify, render_template, request
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from api_gateway.schemas import ErrorBody
from campus_common.errors import ApiError, ValidationError
from campus_common.web import json_body

def _before(req: Any, resp: Any, error: Exception | None, instance: Any, model_adapter: Any = None) -> None:
    """Turn spectree's validation error into ours (raised, so the app's error handlers render it)."""
    if error is None:
        return
    if isinstance(error, pydantic.ValidationError):
        raise as_api_error(error)
    raise ValidationError("the request is not valid")


def as_api_error(error: pydantic.ValidationError) -> ApiError:
    """A pydantic error as the gateway answers it; the shared parsers' messages are kept word for word."""
    if error.title == "IdempotencyHeaders":
        return ApiError(_message(error.errors()[0]), code="invalid_idempotency_key")
    if error.title in BODY_MODELS:
        ensure_json_object()
    details = {_field(item["loc"]): _message(item) for item in error.errors()}
    return ValidationError("invalid input: " + ", ".join(sorted(details)), details=details)


def ensure_json_object() -> None:
    """400 malformed_json unless the body is a JSON object; 415 unless it was sent as JSON."""
    json_body()
    if not request.is_json:
        raise ApiError("send the body as JSON with Content-Type: application/json", status=415,
                       code="unsupported_media_type")


def _field(loc: tuple[Any, ...]) -> str:
    """``("items", 0, "price")`` -> ``items[0].price``, the way the services name fields."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _message(item: ErrorDetails) -> str:
    if item["type"] == "value_error":  # one of our parsers said what is wrong
        return str(item["ctx"]["error"]) if "ctx" in item else item["msg"].removeprefix("Value error, ")
    if item["type"] == "missing":
        return "is required"
    return item["msg"]


api = SpecTree(
    "flask", title="Campus Delivery API gateway", version="1", mode="normal", annotations=False,
    description="The only public entry of the platform: orders, users and saga views. Every /api call needs "
                "`Authorization: Bearer <JWT>`; errors are `{\"error\": {\"code\", \"message\", \"details\"}}`.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer",
                                                                           bearer_format="JWT"))],
    security={"bearer": []}, before=_before, validation_error_status=422, validation_error_model=ErrorBody,
    # Schema names as the models are named: one gateway, one set of names.
    naming_strategy=lambda model: model.__name__, nested_naming_strategy=lambda _parent, child: child)
BODY_MODELS: set[str] = set()
ERRORS = {f"HTTP_{code}": ErrorBody for code in (400, 401, 403, 404)}


def documented(*, tags: tuple[str, ...], ok: dict[str, Any], errors: tuple[int, ...] = (), **models: Any) -> Callable:
    """Validate this view's ``json``/``query``/``headers`` with their models and document it."""
    if models.get("json") is not None:
        BODY_MODELS.add(models["json"].__name__)
    responses = {**ERRORS, **{f"HTTP_{code}": ErrorBody for code in errors}, **ok}
    return api.validate(tags=list(tags), resp=Response(**responses), **models)


bp = Blueprint("docs", __name__, template_folder="templates")


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI 3.1 document of this gateway."""
    return jsonify(document())


@bp.get("/docs")
def docs_page() -> Any:
    """The document as one self-contained HTML page (no scripts, nothing fetched from elsewhere)."""
    return render_template("docs.html", doc=document())


def document() -> dict[str, Any]:
    """The document for the running app's routes: every gateway route is in it, with its server."""
    spec = copy.deepcopy(api.spec)
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            operation["summary"] = operation.get("summary", "").replace("``", "`")  # docstrings' markup
            if not operation.get("responses"):  # a route without models: health, pages, metrics
                operation["responses"] = {"200": _plain_answer(path)}
                operation["security"] = []
    spec["servers"] = [{"url": request.host_url.rstrip("/")}]
    return spec


def _plain_answer(path: str) -> dict[str, Any]:
    if path.startswith("/console") or path == "/docs":
        return {"description": "an HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
    return {"description": "OK"}
