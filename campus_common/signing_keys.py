"""Service keys: which Ed25519 keys each caller signs with and participants accept, from the environment.

``<CALLER>_SERVICE_KEY`` (the caller's private key) and ``<CALLER>_SERVICE_PUBLIC_KEYS``
(comma-separated, several at once for rotation), each a base64url raw 32-byte Ed25519 key, or the
same text in the file named by the variable with ``_FILE`` appended. With none configured a
process refuses to start, unless ``CAMPUS_DEV_MODE=1`` (a fixed, publicly known dev key pair).
"""
from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption

SAGA_WORKERS, API_GATEWAY = "saga_workers", "api_gateway"
CALLERS = (SAGA_WORKERS, API_GATEWAY)


class ServiceAuthNotConfigured(RuntimeError):
    """A process that must sign or check service credentials has no keys (outside development mode)."""


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
    return _b64(_public_bytes(load_private_key(private_key).public_key()))


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
def load_private_key(text: str) -> Ed25519PrivateKey:
    """A private key from its environment encoding (cached: every mint needs it)."""
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
    load_private_key(signing_key_text(caller))


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
