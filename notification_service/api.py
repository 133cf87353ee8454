"""HTTP entry points of the notification service: parse, call one use case, serialize."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from campus_common.idempotency import current_session, idempotent, transactional
from campus_common.service_auth import API_GATEWAY, SAGA_WORKERS
from campus_common.service_guard import allow
from campus_common.validation import parsed
from campus_common.web import body_limit, json_body
from notification_service import commands, service
from notification_service.repository import Notification

bp = Blueprint("notifications", __name__)
# A batch names every runner (up to commands.MAX_BATCH, a few hundred bytes each): above MAX_CONTENT_LENGTH.
BATCH_BODY_LIMIT = 4 * 1024 * 1024


def notification_json(notification: Notification) -> dict[str, Any]:
    """The notification as the API shows it."""
    return {"notification_id": notification.notification_id, "user_id": notification.user_id,
            "type": notification.type, "order_id": notification.order_id,
            "payload": notification.payload, "created_at": notification.created_at}


@bp.post("/notifications")
@allow(API_GATEWAY)  # the runner's status changes
@idempotent
def create_notification() -> tuple[Response, int]:
    """Record one notification for a user."""
    command = parsed(commands.parse_notify, json_body())
    return jsonify(notification_json(service.notify(command, current_session()))), 201


@bp.post("/notifications/batch")
@body_limit(BATCH_BODY_LIMIT)
@allow(SAGA_WORKERS)
@idempotent
def create_notifications() -> tuple[Response, int]:
    """Record a batch of notifications, all or none."""
    batch = parsed(commands.parse_batch, json_body())
    notifications = service.notify_all(batch, current_session())
    return jsonify(notifications=[notification_json(n) for n in notifications]), 201


@bp.get("/notifications")
@allow(API_GATEWAY)
@transactional
def list_notifications() -> Response:
    """Notifications filtered by ``?user_id=`` and/or ``?order_id=``, oldest first."""
    query = parsed(commands.parse_query, request.args)
    notifications = service.list_notifications(query, current_session())
    return jsonify(notifications=[notification_json(n) for n in notifications])
