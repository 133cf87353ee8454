"""Service credentials: short-lived Ed25519-signed JWTs naming the calling service and the participant.

A caller (``saga_workers``, ``api_gateway``) holds its own private key and mints tokens with
``iss`` = itself, ``aud`` = the participant, numeric ``iat`` and ``exp`` (60 s), cached and minted
again before they expire (every saga step sends one). A participant holds only the callers'
*public* keys, so it can check a token but never forge one in another caller's name. Each caller
may have several public keys at once (a list, for rotation); the token's ``kid`` picks the key.

Keys come from the environment: ``<CALLER>_SERVICE_KEY`` (the caller's private key) and
``<CALLER>_SERVICE_PUBLIC_KEYS`` (comma-separated), each a base64url raw 32-byte Ed25519 key, or
the same text in the file named by the variable with ``_FILE`` appended (``signing_keys``, which
also refuses a process without keys outside ``CAMPUS_DEV_MODE=1``).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import jwt

from campus_common.signing_keys import (API_GATEWAY, CALLERS, SAGA_WORKERS, ServiceAuthNotConfigured,
                                        dev_mode, environment_variables, generate_private_key, key_id,
                                        load_private_key, private_key_variable, public_key_of,
                                        public_keys_variable, require_signing_key, signing_key_text,
                                        trusted_keys)

__all__ = ["API_GATEWAY", "CALLERS", "SAGA_WORKERS", "InvalidServiceToken", "ServiceAuthNotConfigured", "dev_mode",
           "environment_variables", "generate_private_key", "key_id", "load_private_key", "private_key_variable",
           "public_key_of", "public_keys_variable", "require_signing_key", "signing_key_text", "token_for",
           "trusted_keys", "verify"]

ALGORITHM = "EdDSA"
TOKEN_TTL_SECONDS = 60
RENEW_BEFORE_SECONDS = 15  # a cached token is replaced this long before it expires (clock skew, slow calls)
MAX_TTL_SECONDS = 300  # a token claiming a longer life is refused, whoever signed it
LEEWAY_SECONDS = 5
log = logging.getLogger(__name__)


class InvalidServiceToken(Exception):
    """A presented service credential is not valid; ``code`` says why (for the 401)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class _Minted:
    token: str
    renew_at: float


_minted: dict[tuple[str, str, str], _Minted] = {}
_mint_lock = threading.Lock()


def token_for(caller: str, audience: str) -> str:
    """A valid token of ``caller`` for ``audience``, from the cache while it has time left."""
    text = signing_key_text(caller)
    now = time.time()
    with _mint_lock:
        cached = _minted.get((caller, audience, text))
        if cached is not None and now < cached.renew_at:
            return cached.token
        private = load_private_key(text)
        issued = int(now)
        claims = {"iss": caller, "sub": caller, "aud": audience, "iat": issued, "exp": issued + TOKEN_TTL_SECONDS}
        token = jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": key_id(private.public_key())})
        _minted[(caller, audience, text)] = _Minted(token, issued + TOKEN_TTL_SECONDS - RENEW_BEFORE_SECONDS)
        return token


def verify(token: str, audience: str) -> str:
    """The calling service a token proves, checked against ``audience``; InvalidServiceToken otherwise."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise InvalidServiceToken("invalid_service_token", f"not a service token: {exc}") from exc
    known = trusted_keys().get(kid) if isinstance(kid, str) else None
    if known is None:
        raise InvalidServiceToken("invalid_service_token", "the token is not signed by a known service key")
    caller, public = known
    try:
        claims = jwt.decode(token, public, algorithms=[ALGORITHM], audience=audience, issuer=caller,
                            leeway=LEEWAY_SECONDS, options={"require": ["iss", "aud", "iat", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidServiceToken("service_token_expired", "the service token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidServiceToken("invalid_service_token", f"the service token is not valid: {exc}") from exc
    if not all(type(claims[name]) is int for name in ("iat", "exp")):  # PyJWT would take "exp": "1700000000"
        raise InvalidServiceToken("invalid_service_token", "iat and exp must be integers (seconds)")
    if claims["exp"] - claims["iat"] > MAX_TTL_SECONDS:
        raise InvalidServiceToken("invalid_service_token", f"a service token may live {MAX_TTL_SECONDS}s at most")
    return caller
