"""The ``payment_service`` schema mapped with SQLAlchemy 2, and the queries the use cases need."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Numeric, Text, func, select, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from payment_service.domain import LIVE_STATUSES, Movement, Transition

SCHEMA = "payment_service"
ONE_LIVE_PER_ORDER_INDEX = "payments_one_live_per_order"
_TIMESTAMP = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""


class Payment(Base):
    """One authorization of an order's amount, moved along the escrow status machine."""

    __tablename__ = "payments"
    __table_args__ = {"schema": SCHEMA}

    payment_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(Text)
    payout_account: Mapped[str | None] = mapped_column(Text)
    authorize_key: Mapped[str | None] = mapped_column(Text)  # the Idempotency-Key that made the hold
    capture_key: Mapped[str | None] = mapped_column(Text)  # ... and the one that charged it
    created_at: Mapped[datetime] = mapped_column(_TIMESTAMP, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(_TIMESTAMP, server_default=func.now())
    authorized_at: Mapped[datetime] = mapped_column(_TIMESTAMP, server_default=func.now())
    released_at: Mapped[datetime | None] = mapped_column(_TIMESTAMP)
    captured_at: Mapped[datetime | None] = mapped_column(_TIMESTAMP)
    refunded_at: Mapped[datetime | None] = mapped_column(_TIMESTAMP)


class LedgerEntry(Base):
    """One movement of money caused by a payment's status change."""

    __tablename__ = "ledger_entries"
    __table_args__ = {"schema": SCHEMA}

    entry_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Payment.payment_id))
    entry_type: Mapped[str] = mapped_column(Text)
    account: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(_TIMESTAMP, server_default=func.now())


class PaymentRepository:
    """Payments and their ledger in one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, payment: Payment, movements: Iterable[Movement]) -> Payment:
        """Insert ``payment`` with its ledger entries now (a second live one raises IntegrityError)."""
        self.session.add(payment)
        self.session.flush()
        self.record(payment, movements)
        return payment

    def get(self, payment_id: uuid.UUID) -> Payment | None:
        """The payment as committed right now (not a stale copy from this session)."""
        return self.session.get(Payment, payment_id, populate_existing=True)

    def live_for_order(self, order_id: uuid.UUID) -> Payment | None:
        """The order's AUTHORIZED or CAPTURED payment, if any (the index allows one at most)."""
        query = select(Payment).where(Payment.order_id == order_id, Payment.status.in_(LIVE_STATUSES))
        return self.session.scalars(query.execution_options(populate_existing=True)).one_or_none()

    def made_by(self, order_id: uuid.UUID, column: str, action_key: str) -> Payment | None:
        """The order's payment whose ``column`` (authorize_key, capture_key) is ``action_key``, if any."""
        query = select(Payment).where(Payment.order_id == order_id, getattr(Payment, column) == action_key)
        return self.session.scalars(query.execution_options(populate_existing=True)).first()

    def for_order(self, order_id: uuid.UUID | None) -> list[Payment]:
        """Payments (of one order when given), oldest first."""
        query = select(Payment).order_by(Payment.created_at, Payment.payment_id)
        if order_id is not None:
            query = query.where(Payment.order_id == order_id)
        return list(self.session.scalars(query))

    def transition(self, payment: Payment, move: Transition, **values: Any) -> Payment | None:
        """Apply ``move`` only if the payment is still in its from-status; None when another won."""
        stmt = (update(Payment)
                .where(Payment.payment_id == payment.payment_id, Payment.status == move.from_status)
                .values(status=move.to_status, updated_at=func.now(), **{move.stamp: func.now()}, **values)
                .returning(Payment)
                .execution_options(populate_existing=True, synchronize_session=False))
        return self.session.scalars(stmt).one_or_none()

    def record(self, payment: Payment, movements: Iterable[Movement]) -> None:
        """Write the ledger entries of a status change, in the same transaction."""
        self.session.add_all(LedgerEntry(payment_id=payment.payment_id, entry_type=m.entry_type,
                                         account=m.account, amount=m.amount) for m in movements)
        self.session.flush()
