"""Bearer-token auth: HS256 JWTs carrying ``sub`` (a user id) and ``role``; ``requires`` guards views."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jwt
from flask import current_app, g, request

from campus_common.errors import Forbidden, Unauthorized
from campus_common.validation import parse_uuid
from campus_common.web import settings_of_app

ROLES = ("customer", "runner", "admin")
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "role"]
IAT_LEEWAY_SECONDS = 30  # clock skew between the token's issuer and the gateway
DEFAULT_MAX_TTL_SECONDS = 86400


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user id and the role the token grants."""

    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        """True for operators, who may see and do everything."""
        return self.role == "admin"


def issue_token(sub: str, role: str, secret: str, ttl_seconds: int = 3600) -> str:
    """A signed token for ``sub`` in ``role`` that expires after ``ttl_seconds``."""
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS) -> Principal:
    """The principal of a valid token; Unauthorized when it is bad, expired or lives too long."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=0,
                            options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired", code="token_expired") from exc
    except jwt.ImmatureSignatureError as exc:
        # PyJWT refuses any future iat; allow the usual skew between the signer's clock and ours.
        claims = _skewed_claims(token, secret, exc)
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the token is not valid: {_why(exc)}", code="invalid_token") from exc
    _check_lifetime(claims, max_ttl_seconds)
    try:
        user_id = parse_uuid(claims["sub"])
    except ValueError:
        user_id = None
    if claims["role"] not in ROLES or user_id is None:
        raise Unauthorized("the token's role or subject is not valid", code="invalid_token")
    return Principal(user_id=str(user_id), role=claims["role"])


def _why(exc: jwt.InvalidTokenError) -> str:
    # Our own words, not the library's exception text (the error format never carries that).
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"it has no {exc.claim} claim"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not match"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return f"it is not signed with {ALGORITHM}"
    if isinstance(exc, jwt.DecodeError):
        return "it is not a well-formed JWT"
    return "its claims are not valid"


def _skewed_claims(token: str, secret: str, exc: Exception) -> dict[str, Any]:
    try:
        return jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=IAT_LEEWAY_SECONDS,
                          options={"require": REQUIRED_CLAIMS})
    except jwt.InvalidTokenError:
        raise Unauthorized("the token is not valid yet (iat is in the future)", code="invalid_token") from exc


def _numeric(value: Any) -> bool:
    # PyJWT reads "exp": "4102444800" as a number; RFC 7519 says NumericDate, so a string is refused.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_lifetime(claims: dict[str, Any], max_ttl_seconds: int) -> None:
    if not (_numeric(claims["exp"]) and _numeric(claims["iat"])):
        raise Unauthorized("the token's exp and iat must be numbers (seconds since the epoch)", code="invalid_token")
    if claims["exp"] <= claims["iat"] or claims["exp"] - claims["iat"] > max_ttl_seconds:
        raise Unauthorized(f"the token lives longer than the maximum of {max_ttl_seconds} seconds",
                           code="invalid_token", details={"max_ttl_seconds": max_ttl_seconds})


def jwt_secret() -> str:
    """The signing secret the current app checked at start-up (see ``create_app``)."""
    return current_app.config["GATEWAY_JWT_SECRET"]


def token_principal() -> Principal | None:
    """The principal of the request's bearer token, or None when it has none or a bad one (never raises)."""
    try:
        return decode_token(_bearer_token(), jwt_secret(), settings_of_app().gateway_token_max_ttl_seconds)
    except Unauthorized:
        return None


def current_principal() -> Principal:
    """The principal that ``requires`` authenticated for this request."""
    return g.principal


def requires(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view run only for a valid bearer token whose role is one of ``roles`` (401 / 403)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = decode_token(_bearer_token(), jwt_secret(),
                                     settings_of_app().gateway_token_max_ttl_seconds)
            if principal.role not in roles:
                raise Forbidden(f"this needs the role {' or '.join(roles)}",
                                details={"role": principal.role, "allowed": list(roles)})
            g.principal = principal
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    return token.strip()
