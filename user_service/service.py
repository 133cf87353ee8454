"""User use cases: each takes plain arguments and the unit of work's Session."""
from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campus_common.errors import Conflict, found
from user_service.commands import CreateUser
from user_service.domain import has_card_on_file, has_payout_account
from user_service.repository import EMAIL_UNIQUE_INDEX, User, UserRepository

# What a saga step is told when the account it needs is not on file: (message, code).
_NOT_ON_FILE = {"card_token": ("this user has no card on file", "no_card_on_file"),
                "payout_account": ("this user has no payout account", "no_payout_account")}


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
    return found(UserRepository(session).get(user_id), "user", user_id)


def list_users(role: str | None, session: Session) -> list[User]:
    """Every user, or those of one role, oldest first."""
    return UserRepository(session).list(role)


def card_on_file(user_id: uuid.UUID, session: Session) -> str:
    """The customer's card token; 409 ``no_card_on_file`` for a runner or a missing card."""
    return _account_on_file(user_id, session, "card_token", has_card_on_file)


def payout_account(user_id: uuid.UUID, session: Session) -> str:
    """The runner's payout account; 409 ``no_payout_account`` for a customer or a missing one."""
    return _account_on_file(user_id, session, "payout_account", has_payout_account)


def _account_on_file(user_id: uuid.UUID, session: Session, field: str,
                     holds: Callable[[str, str | None], bool]) -> str:
    user = get_user(user_id, session)
    account = getattr(user, field)
    if not holds(user.role, account):
        problem, code = _NOT_ON_FILE[field]
        raise Conflict(problem, code=code, details={"user_id": str(user_id), "role": user.role})
    return account
