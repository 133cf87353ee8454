"""Requests to the user service, validated into plain commands (no I/O, no framework)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from user_service.domain import ROLES, required_account

MAX_NAME = 200
MAX_EMAIL = 254
MAX_ACCOUNT = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InvalidInput(ValueError):
    """Input that breaks the rules; ``details`` maps each bad field to what is wrong with it."""

    def __init__(self, details: dict[str, str]) -> None:
        super().__init__("invalid input: " + ", ".join(sorted(details)))
        self.details = details


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
    errors: dict[str, str] = {}
    name = _text(data.get("name"), "name", MAX_NAME, errors)
    email = _text(data.get("email"), "email", MAX_EMAIL, errors)
    if email is not None and not _EMAIL.match(email):
        errors["email"] = "must be an email address"
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    accounts = {field: None if data.get(field) is None else _text(data[field], field, MAX_ACCOUNT, errors)
                for field in ("card_token", "payout_account")}
    if role in ROLES and (field := required_account(role)) not in errors and accounts[field] is None:
        errors[field] = f"is required for a {role}"
    if errors:
        raise InvalidInput(errors)
    return CreateUser(name=str(name), email=str(email).lower(), role=str(role), **accounts)


def parse_role(value: str | None) -> str | None:
    """Validate the optional ``role`` filter of the user list."""
    if value is None or value in ROLES:
        return value
    raise InvalidInput({"role": f"must be one of {', '.join(ROLES)}"})


def _text(value: Any, field: str, max_length: int, errors: dict[str, str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors[field] = "is required and must be a non-empty string"
    elif len(value.strip()) > max_length:
        errors[field] = f"must be at most {max_length} characters"
    else:
        return value.strip()
    return None
