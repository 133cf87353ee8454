"""Request validation every service shares: field parsers, a collector of problems, and the 422 they become.

A parser takes one raw value and returns it checked, or raises ValueError saying what is wrong
("must be a UUID"). ``Fields`` runs parsers over a request's fields and refuses once with
InvalidInput naming every bad field; a view turns that into the one error format with ``parsed``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, cast, overload
from decimal import Decimal, InvalidOperation
from uuid import UUID

from campus_common.errors import ValidationError

T = TypeVar("T")


class InvalidInput(ValueError):
    """Input that breaks the rules; ``details`` maps each bad field to what is wrong with it."""

    def __init__(self, details: Mapping[str, str]) -> None:
        super().__init__("invalid input: " + ", ".join(sorted(details)))
        self.details = dict(details)


def parse_uuid(value: Any) -> UUID:
    """A UUID written as a string."""
    if not isinstance(value, str):
        raise ValueError("must be a UUID")
    try:
        return UUID(value)
    except ValueError as exc:
        raise ValueError("must be a UUID") from exc


CENTS = Decimal("0.01")


def money(maximum: Decimal) -> Callable[[Any], Decimal]:
    """A parser of an amount: a JSON number (read as Decimal) or a decimal string, greater than 0,
    at most ``maximum`` and two places; never rounded, since money must arrive exact."""

    def parse(value: Any) -> Decimal:
        # Floats never come from our JSON (it reads numbers as Decimal); refuse them with the rest.
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValueError('must be an amount such as "12.50"')
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError('must be an amount such as "12.50"') from exc
        if not amount.is_finite():
            raise ValueError('must be an amount such as "12.50"')
        if not Decimal(0) < amount <= maximum:
            raise ValueError(f"must be greater than 0 and at most {maximum}")
        if amount != amount.quantize(CENTS):
            raise ValueError("must have at most two decimal places")
        return amount.quantize(CENTS)
    return parse


# NUL cannot be stored in Postgres text or JSONB; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "must not contain NUL characters or unpaired surrogates"


def storable(value: str) -> bool:
    """True when ``value`` can be stored and sent on as UTF-8 text (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(value) is None


def checked_text(value: str) -> str:
    """``value`` unchanged when it is storable text; ValueError otherwise (every text parser calls this)."""
    if not storable(value):
        raise ValueError(UNSTORABLE_TEXT)
    return value


MAX_JSON_DEPTH = 32  # far above any request of ours; deep data only costs recursion further on


def unfit_json(data: Any, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """``(path, problem)`` of the first value in JSON ``data`` nested too deeply or holding unstorable text."""
    pending: list[tuple[str, int, Any]] = [("", 1, data)]
    while pending:  # a loop, not recursion: the depth of the data is the client's choice
        path, depth, value = pending.pop()
        where = path or "body"
        if isinstance(value, str) and not storable(value):
            return where, UNSTORABLE_TEXT
        if isinstance(value, (dict, list)) and depth > max_depth:
            return where, f"must not be nested more than {max_depth} levels deep"
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else key
                if not storable(key):
                    return ascii(name), f"a key {UNSTORABLE_TEXT}"
                pending.append((name, depth + 1, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", depth + 1, item) for index, item in enumerate(value))
    return None


def required_text(max_length: int) -> Callable[[Any], str]:
    """A parser of a non-empty string of at most ``max_length`` characters once trimmed; absent is refused."""

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("is required and must be a non-empty string")
        if len(value.strip()) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return checked_text(value.strip())
    return parse


class Fields:
    """Reads the fields of a JSON object or query string, collecting every problem before refusing once.

    A bad field reads as None (typed as its parsed value, so commands are built in one expression):
    what ``get`` and ``read`` return counts only once ``done()`` has returned, and it raises after any failure.
    """

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data, self.prefix = data, prefix
        self.errors: dict[str, str] = {}

    @overload
    def get(self, field: str, parse: Callable[[Any], T], *, required: Literal[True] = True) -> T: ...

    @overload
    def get(self, field: str, parse: Callable[[Any], T], *, required: bool) -> T | None: ...

    def get(self, field: str, parse: Callable[[Any], T], *, required: bool = True) -> T | None:
        """``field`` parsed; when absent it "is required", or is None when not ``required`` (so is "")."""
        value = self.data.get(field)
        if value is None or (not required and value == ""):
            if required:
                self.fail(field, "is required")
                return cast(T, None)  # see the class docstring
            return None
        return self._parse(field, parse, value)

    def read(self, field: str, parse: Callable[[Any], T]) -> T:
        """``field`` parsed as it stands (``parse`` alone says what absence means)."""
        return self._parse(field, parse, self.data.get(field))

    def fail(self, field: str, problem: str) -> None:
        """Note what is wrong with ``field``."""
        self.errors[self.prefix + field] = problem

    def done(self) -> None:
        """Raise InvalidInput naming every bad field, if there is any."""
        if self.errors:
            raise InvalidInput(self.errors)

    def _parse(self, field: str, parse: Callable[[Any], T], value: Any) -> T:
        try:
            return parse(value)
        except InvalidInput as exc:  # a nested value names its own bad fields
            self.errors.update((self.prefix + name, problem) for name, problem in exc.details.items())
        except ValueError as exc:
            self.fail(field, str(exc))
        return cast(T, None)  # see the class docstring


def parsed(parser: Callable[..., T], *args: Any, message: str | None = None) -> T:
    """``parser(*args)`` for a view: InvalidInput becomes a 422 with its details (and ``message``, if given)."""
    try:
        return parser(*args)
    except InvalidInput as exc:
        raise ValidationError(message or str(exc), details=exc.details) from exc
