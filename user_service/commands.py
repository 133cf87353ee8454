"""Requests to the user service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campus_common.validation import Fields, InvalidInput, required_text
from user_service.domain import ROLES, required_account

MAX_NAME = 200
MAX_EMAIL = 254
MAX_ACCOUNT = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_parse_name, _parse_email_text, _parse_account = (required_text(MAX_NAME), required_text(MAX_EMAIL),
                                                  required_text(MAX_ACCOUNT))


@dataclass(frozen=True)
class CreateUser:
    """A validated request to register a customer or a runner (email lower-cased)."""

    name: str
    email: str
    role: str
    card_token: str | None
    payout_account: str | None


def parse_create_user(data: Mapping[str, Any]) -> CreateUser:
    """Validate a registration; raise InvalidInput naming every bad field."""
    fields = Fields(data)
    name = fields.read("name", _parse_name)
    email = fields.read("email", _parse_email)
    role = fields.read("role", _parse_role)
    accounts = {field: None if data.get(field) is None else fields.read(field, _parse_account)
                for field in ("card_token", "payout_account")}
    field = None if "role" in fields.errors else required_account(role)
    if field is not None and field not in fields.errors and accounts[field] is None:
        fields.fail(field, f"is required for a {role}")
    fields.done()
    return CreateUser(name=name, email=email.lower(), role=role, **accounts)


def parse_role(value: str | None) -> str | None:
    """Validate the optional ``role`` filter of the user list."""
    try:
        return None if value is None else _parse_role(value)
    except ValueError as exc:
        raise InvalidInput({"role": str(exc)}) from exc


def _parse_email(value: Any) -> str:
    email = _parse_email_text(value)
    if not _EMAIL.match(email):
        raise ValueError("must be an email address")
    return email


def _parse_role(value: Any) -> str:
    if value not in ROLES:
        raise ValueError(f"must be one of {', '.join(ROLES)}")
    return value
