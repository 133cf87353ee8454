"""The ``user_service`` schema mapped with SQLAlchemy 2, and the queries the use cases need."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Numeric, Text, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

SCHEMA = "user_service"
EMAIL_UNIQUE_INDEX = "users_email_key"


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""


class User(Base):
    """A customer or a runner."""

    __tablename__ = "users"
    __table_args__ = {"schema": SCHEMA}

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    card_token: Mapped[str | None] = mapped_column(Text)
    payout_account: Mapped[str | None] = mapped_column(Text)
    customer_rating: Mapped[Decimal] = mapped_column(Numeric(2, 1), server_default="5.0")
    runner_rating: Mapped[Decimal] = mapped_column(Numeric(2, 1), server_default="5.0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())


class UserRepository:
    """Users in one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, user: User) -> User:
        """Insert ``user`` now, so a taken email surfaces here as an IntegrityError."""
        self.session.add(user)
        self.session.flush()
        return user

    def get(self, user_id: uuid.UUID) -> User | None:
        """The user with ``user_id``, if any."""
        return self.session.get(User, user_id)

    def list(self, role: str | None = None) -> list[User]:
        """Users (of ``role`` when given), oldest first."""
        query = select(User).order_by(User.created_at, User.user_id)
        if role is not None:
            query = query.where(User.role == role)
        return list(self.session.scalars(query))
