"""User use cases: each takes plain arguments and the unit of work's Session."""
from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus_common.errors import Conflict, NotFound
from user_service.commands import CreateUser
from user_service.domain import has_card_on_file, has_payout_account
from user_service.repository import EMAIL_UNIQUE_INDEX, User, UserRepository


def create_user(new_user: CreateUser, session: Session) -> User:
    """Register a user; 409 ``email_taken`` when the address is in use, even under a race."""
    user = User(user_id=uuid.uuid4(), name=new_user.name, email=new_user.email, role=new_user.role,
                card_token=new_user.card_token, payout_account=new_user.payout_account)
    try:
        # A savepoint: a losing insert must not poison the request's transaction.
        with session.begin_nested():
            UserRepository(session).add(user)
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) != EMAIL_UNIQUE_INDEX:
            raise
        raise Conflict("a user with this email already exists", code="email_taken",
                       details={"email": new_user.email}) from exc
    return user


def get_user(user_id: uuid.UUID, session: Session) -> User:
    """The user with ``user_id``; 404 when unknown."""
    user = UserRepository(session).get(user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", details={"user_id": str(user_id)})
    return user


def list_users(role: str | None, session: Session) -> list[User]:
    """Every user, or those of one role, oldest first."""
    return UserRepository(session).list(role)


def card_on_file(user_id: uuid.UUID, session: Session) -> str:
    """The customer's card token; 409 ``no_card_on_file`` for a runner or a missing card."""
    user = get_user(user_id, session)
    if not has_card_on_file(user.role, user.card_token):
        raise Conflict("this user has no card on file", code="no_card_on_file",
                       details={"user_id": str(user_id), "role": user.role})
    return user.card_token


def payout_account(user_id: uuid.UUID, session: Session) -> str:
    """The runner's payout account; 409 ``no_payout_account`` for a customer or a missing one."""
    user = get_user(user_id, session)
    if not has_payout_account(user.role, user.payout_account):
        raise Conflict("this user has no payout account", code="no_payout_account",
                       details={"user_id": str(user_id), "role": user.role})
    return user.payout_account
