"""Notification use cases: each takes plain arguments and the unit of work's Session."""
from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from notification_service.commands import NotificationQuery, Notify
from notification_service.repository import Notification, NotificationRepository


def notify(command: Notify, session: Session) -> Notification:
    """Record one notification."""
    return notify_all([command], session)[0]


def notify_all(commands: list[Notify], session: Session) -> list[Notification]:
    """Record a batch of notifications in the caller's transaction: all of them or none."""
    return NotificationRepository(session).add_all(
        Notification(notification_id=uuid.uuid4(), user_id=c.user_id, type=c.type, order_id=c.order_id,
                     payload=c.payload) for c in commands)


def list_notifications(query: NotificationQuery, session: Session) -> list[Notification]:
    """Notifications for a user and/or an order, oldest first."""
    return NotificationRepository(session).find(query.user_id, query.order_id)
