"""Service credentials: short-lived Ed25519-signed JWTs naming the calling service and the participant.

A caller (``saga_workers``, ``api_gateway``) holds its own private key and mints tokens with
``iss`` = itself, ``aud`` = the participant, numeric ``iat`` and ``exp`` (60 s), cached and minted
again before they expire (every saga step sends one). A participant holds only the callers'
*public* keys, so it can check a token but never forge one in another caller's name. Each caller
may have several public keys at once (a list, for rotation); the token's ``kid`` picks the key.

Keys come from the environment: ``<CALLER>_SERVICE_KEY`` (the caller's private key) and
``<CALLER>_SERVICE_PUBLIC_KEYS`` (comma-separated), each a base64url raw 32-byte Ed25519 key, or
the same text in the file named by the variable with ``_FILE`` appended. With none configured a
process refuses to start, unless ``CAMPUS_DEV_MODE=1`` (a fixed, publicly known dev key pair).
"""
from __future__ import annotations

import base64
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption

SAGA_WORKERS, API_GATEWAY = "saga_workers", "api_gateway"
CALLERS = (SAGA_WORKERS, API_GATEWAY)
ALGORITHM = "EdDSA"
TOKEN_TTL_SECONDS = 60
RENEW_BEFORE_SECONDS = 15  # a cached token is replaced this long before it expires (clock skew, slow calls)
MAX_TTL_SECONDS = 300  # a token claiming a longer life is refused, whoever signed it
LEEWAY_SECONDS = 5
log = logging.getLogger(__name__)


class ServiceAuthNotConfigured(RuntimeError):
    """A process that must sign or check service credentials has no keys (outside development mode)."""


class InvalidServiceToken(Exception):
    """A presented service credential is not valid; ``code`` says why (for the 401)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def private_key_variable(caller: str) -> str:
    """``SAGA_WORKERS_SERVICE_KEY``: where ``caller``'s private key comes from."""
    return f"{caller.upper()}_SERVICE_KEY"


def public_keys_variable(caller: str) -> str:
    """``SAGA_WORKERS_SERVICE_PUBLIC_KEYS``: the public keys participants accept for ``caller``."""
    return f"{caller.upper()}_SERVICE_PUBLIC_KEYS"


def environment_variables() -> set[str]:
    """Every variable this module reads (deployment checks compare manifests against it)."""
    names = {private_key_variable(c) for c in CALLERS} | {public_keys_variable(c) for c in CALLERS}
    return names | {f"{name}_FILE" for name in names} | {"CAMPUS_DEV_MODE"}


def dev_mode() -> bool:
    """True under the explicit development flag ``CAMPUS_DEV_MODE=1``."""
    return os.environ.get("CAMPUS_DEV_MODE", "") == "1"


def generate_private_key() -> str:
    """A fresh private key in the environment's encoding (base64url of the raw 32 bytes)."""
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return _b64(raw)


def public_key_of(private_key: str) -> str:
    """The public key (same encoding) that checks tokens signed with ``private_key``."""
    return _b64(_public_bytes(_load_private(private_key).public_key()))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise ServiceAuthNotConfigured(f"{what} is not base64url: {exc}") from exc
    if len(raw) != 32:
        raise ServiceAuthNotConfigured(f"{what} must be a raw 32-byte Ed25519 key, got {len(raw)} bytes")
    return raw


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@lru_cache(maxsize=64)
def _load_private(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw(text, "a service private key"))


@lru_cache(maxsize=64)
def _load_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw(text, "a service public key"))


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the ``kid`` header of the tokens it checks."""
    return _b64(hashlib.sha256(_public_bytes(public)).digest()[:9])


def _dev_private_key(caller: str) -> str:
    # Derived from a public string on purpose: anybody can compute it, so it is only for development.
    return _b64(hashlib.sha256(f"campus-delivery dev-only service key: {caller}".encode()).digest())


def _setting(variable: str) -> str:
    """``variable``'s value, or the text of the file ``<variable>_FILE`` names; "" when neither is set."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    path = os.environ.get(f"{variable}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ServiceAuthNotConfigured(f"{variable}_FILE={path} cannot be read: {exc}") from exc
    return ""


def signing_key_text(caller: str) -> str:
    """``caller``'s private key as configured (the dev key in development mode); refuses when missing."""
    text = _setting(private_key_variable(caller))
    if text:
        return text
    if dev_mode():
        return _dev_private_key(caller)
    raise ServiceAuthNotConfigured(f"{private_key_variable(caller)} is not set: {caller} cannot authenticate "
                                   "to the participants (set it, or CAMPUS_DEV_MODE=1 for development)")


def require_signing_key(caller: str) -> None:
    """Refuse to start a process that calls participants as ``caller`` without a usable key."""
    _load_private(signing_key_text(caller))


def trusted_keys() -> dict[str, tuple[str, Ed25519PublicKey]]:
    """Every accepted public key by ``kid``: (the caller it speaks for, the key); refuses when none is set."""
    keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
    for caller in CALLERS:
        texts = [t for t in _setting(public_keys_variable(caller)).replace("\n", ",").split(",") if t.strip()]
        if not texts and dev_mode():
            texts = [public_key_of(_dev_private_key(caller))]
        for text in texts:
            public = _load_public(text.strip())
            keys[key_id(public)] = (caller, public)
    if not keys:
        raise ServiceAuthNotConfigured(
            "no service public keys are set (" + ", ".join(public_keys_variable(c) for c in CALLERS)
            + "): this participant could not tell its callers apart (set them, or CAMPUS_DEV_MODE=1)")
    return keys


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
        private = _load_private(text)
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
