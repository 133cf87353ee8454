"""Idempotent endpoints: the first answer to a key is stored with the change it made, atomically.

A repeat of the key gets that answer again without acting twice; the same key with another
request is refused (422); a key whose action was compensated first is refused (409), so a late
action can never take effect after its compensation.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, jsonify, make_response, request
from sqlalchemy import text
from sqlalchemy.orm import Session

from campus_common.errors import ApiError, error_body

COMPENSATED = "compensated"
ACTION_SUFFIX, COMPENSATE_SUFFIX = ":action", ":compensation"
MAX_KEY_LENGTH = 255  # well inside a btree index entry; saga keys "{saga_id}:{step}:{phase}" are < 100
STORES_KEYS = "stores_idempotency_keys"


def checked_key(raw: str | None) -> str | None:
    """An ``Idempotency-Key`` header as sent, None when absent; 400 when empty, too long or unprintable."""
    if raw is None:
        return None
    if not raw.strip() or len(raw) > MAX_KEY_LENGTH or not raw.isprintable():
        raise ApiError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                       code="invalid_idempotency_key")
    return raw


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data()):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _table() -> str:
    return f'"{current_app.config["DB_SCHEMA"]}".idempotency_keys'


def paired_action_key(compensation_key: str | None) -> str | None:
    """The action key a compensation key undoes (``S:step:compensation`` -> ``S:step:action``)."""
    if not compensation_key or not compensation_key.endswith(COMPENSATE_SUFFIX):
        return None
    return compensation_key[: -len(COMPENSATE_SUFFIX)] + ACTION_SUFFIX


def undone_action_key(named: str | None = None) -> str | None:
    """The action key the current compensation undoes: ``named`` (its body's ``undoes``), else the one
    paired with its own Idempotency-Key; None for a request that undoes no particular action."""
    return named or paired_action_key(request.headers.get("Idempotency-Key"))


def forbid_late_action(session: Session, compensation_key: str | None) -> None:
    """Record that the action paired with ``compensation_key`` must never run from now on."""
    forbid_action(session, paired_action_key(compensation_key))


def forbid_action(session: Session, action_key: str | None) -> None:
    """Record that the action with ``action_key`` must never run from now on (its compensation came).

    Written at once, so an action still in flight with that key is waited for (its key row is
    locked) and then seen; and written again if the request ends in a refusal, whose rollback
    undid the first write, so a compensation answering "nothing to undo" still stops a late action.
    """
    if action_key is None:
        return
    g.setdefault("forbidden_action_keys", []).append(action_key)
    _insert_forbidden(session, action_key)


def _insert_forbidden(session: Session, action_key: str) -> None:
    session.execute(text(f"INSERT INTO {_table()} (key, fingerprint) VALUES (:k, :f) ON CONFLICT DO NOTHING"),
                    {"k": action_key, "f": COMPENSATED})


def _rewrite_forbidden(session: Session) -> None:
    for action_key in g.pop("forbidden_action_keys", []):
        _insert_forbidden(session, action_key)


def _replay(row: Any, fingerprint: str) -> Response | None:
    if row.fingerprint == COMPENSATED:
        raise ApiError("this request was already compensated and will not be applied",
                       status=409, code="already_compensated")
    if row.fingerprint != fingerprint:
        raise ApiError("Idempotency-Key was already used with a different request",
                       status=422, code="idempotency_key_reused")
    if row.status_code is None:
        return None
    response = make_response(row.response, row.status_code)
    response.mimetype = "application/json"
    response.headers["Idempotent-Replay"] = "true"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view`` in one unit of work (``g.session``) together with its idempotency record."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = checked_key(request.headers.get("Idempotency-Key"))
        with current_app.extensions["db"].unit_of_work() as session:
            g.session = session
            if not key:
                return _run_in_savepoint(session, view, args, kwargs)
            fingerprint = _fingerprint()
            session.execute(text(f"INSERT INTO {_table()} (key, fingerprint) VALUES (:k, :f) "
                                 "ON CONFLICT DO NOTHING"), {"k": key, "f": fingerprint})
            row = session.execute(text(f"SELECT fingerprint, status_code, response FROM {_table()} "
                                       "WHERE key = :k FOR UPDATE"), {"k": key}).one()
            replay = _replay(row, fingerprint)
            if replay is not None:
                return replay
            response = _run_in_savepoint(session, view, args, kwargs)
            session.execute(text(f"UPDATE {_table()} SET status_code = :s, response = :r WHERE key = :k"),
                            {"s": response.status_code, "r": response.get_data(as_text=True), "k": key})
            return response

    setattr(wrapper, STORES_KEYS, True)  # the app keeps idempotency keys: it purges the expired ones
    return wrapper


def stores_keys(view: Callable[..., Any]) -> bool:
    """Whether ``view`` (through any decorators around it) records idempotency keys (``idempotent``)."""
    current: Callable[..., Any] | None = view
    while current is not None:
        if getattr(current, STORES_KEYS, False):
            return True
        current = getattr(current, "__wrapped__", None)  # None: the end of the chain
    return False


def _run_in_savepoint(session: Session, view: Callable[..., Any], args: Any, kwargs: Any) -> Response:
    """Run the view; a refusal undoes its partial changes but is still stored as the answer."""
    savepoint = session.begin_nested()
    try:
        response = make_response(view(*args, **kwargs))
    except ApiError as exc:
        savepoint.rollback()
        _rewrite_forbidden(session)
        return make_response(jsonify(error_body(exc.code, exc.message, exc.details)), exc.status)
    savepoint.commit()
    g.pop("forbidden_action_keys", None)  # written at once, and kept by the commit
    return response


def current_session() -> Session:
    """The unit of work of the current request (opened by ``idempotent`` or ``transactional``)."""
    return g.session


def transactional(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a read or non-idempotent view in one unit of work (``g.session``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with current_app.extensions["db"].unit_of_work() as session:
            g.session = session
            return view(*args, **kwargs)

    return wrapper
