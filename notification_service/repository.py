"""The ``notification_service`` schema mapped with SQLAlchemy 2, and the queries the use cases need."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

SCHEMA = "notification_service"


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""


class Notification(Base):
    """One message sent to one user."""

    __tablename__ = "notifications"
    __table_args__ = {"schema": SCHEMA}

    notification_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                                       default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    type: Mapped[str] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NotificationRepository:
    """Notifications in one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_all(self, notifications: Iterable[Notification]) -> list[Notification]:
        """Insert the notifications now, in order."""
        added = list(notifications)
        self.session.add_all(added)
        self.session.flush()
        return added

    def find(self, user_id: uuid.UUID | None, order_id: uuid.UUID | None) -> list[Notification]:
        """Notifications matching the filters given, oldest first."""
        query = select(Notification).order_by(Notification.created_at, Notification.seq)
        if user_id is not None:
            query = query.where(Notification.user_id == user_id)
        if order_id is not None:
            query = query.where(Notification.order_id == order_id)
        return list(self.session.scalars(query))
