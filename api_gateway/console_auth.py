"""Who may use the saga console: an admin token from the Authorization header or the sign-in cookie.

The cookie is HttpOnly and SameSite=Strict; a POST that the cookie authenticates must also come from
a page of this gateway (Origin, else Referer), so another site can neither read nor ride it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jwt
from flask import g, request
from werkzeug.wrappers import Response as BaseResponse

from api_gateway.auth import Principal, decode_token, jwt_secret
from campus_common.errors import ApiError, Forbidden, Unauthorized
from campus_common.web import settings_of_app

R = TypeVar("R", bound=BaseResponse)  # a redirect, or any other response the cookie rides on
COOKIE = "console_token"
COOKIE_PATH = "/console"


class SignInNeeded(Unauthorized):
    """No valid admin token came with a console request: the sign-in page answers."""


def admin_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a console page run only for an admin; POSTs riding the cookie must be same-origin."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token, from_cookie = _token()
        if token is None:
            raise SignInNeeded("sign in with an admin token")
        principal = signed_in(token)
        if request.method == "POST" and from_cookie:
            ensure_same_origin()
        g.principal = principal
        return view(*args, **kwargs)
    return wrapper


def signed_in(token: str) -> Principal:
    """The admin a token speaks for; SignInNeeded when it is bad or expired, Forbidden for other roles."""
    try:
        principal = decode_token(token, jwt_secret(), settings_of_app().gateway_token_max_ttl_seconds)
    except Unauthorized as exc:
        raise SignInNeeded(exc.message, code=exc.code) from exc
    if not principal.is_admin:
        raise Forbidden("the console is for admins", details={"role": principal.role})
    return principal


def ensure_same_origin() -> None:
    """403 unless the POST names this gateway as its origin (a cross-site form cannot)."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(source)
    if (parts.scheme, parts.netloc) != (request.scheme, request.host):
        raise ApiError("this form must be sent from the console itself", status=403, code="cross_site_request")


def set_token_cookie(response: R, token: str) -> R:
    """Keep the token for the console's pages until it expires; never readable by scripts."""
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
    response.set_cookie(COOKIE, token, max_age=max(0, int(expires - time.time())), path=COOKIE_PATH,
                        httponly=True, samesite="Strict", secure=request.is_secure)
    return response


def clear_token_cookie(response: R) -> R:
    """Sign out."""
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict", secure=request.is_secure)
    return response


def _token() -> tuple[str | None, bool]:
    scheme, _, header_token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and header_token.strip():
        return header_token.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)
