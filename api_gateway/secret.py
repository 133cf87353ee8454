"""The gateway's signing secret: strong, or an explicit development mode; never a silent default."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
# Only ever used with CAMPUS_DEV_MODE=1; known to everyone, so never accepted otherwise.
DEV_SECRET = "dev-only-gateway-secret-change-me-in-production"
# Words of the values people leave in place: shipped defaults, templates (k8s/secret.yaml's
# REPLACE-ME), and the README's old default; matched anywhere in the secret, case-folded.
KNOWN_PLACEHOLDERS = ("changeme", "change-me", "change_me", "replaceme", "replace-me", "replace_me", "placeholder",
                      "your-secret", "yoursecret", "example")


class InsecureSecret(RuntimeError):
    """GATEWAY_JWT_SECRET is missing, too short or a known placeholder."""


def secret_problem(secret: str) -> str | None:
    """What is wrong with ``secret`` as an HS256 key for real tokens, or None when it is fine."""
    if not secret:
        return "GATEWAY_JWT_SECRET is not set"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"GATEWAY_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
    folded = secret.lower()
    # Fewer than 8 distinct characters ("aaaa...", "0101...") is a filler, not a key.
    if secret == DEV_SECRET or any(word in folded for word in KNOWN_PLACEHOLDERS) or len(set(secret)) < 8:
        return "GATEWAY_JWT_SECRET is a known placeholder or default"
    return None


def checked_secret(secret: str, dev_mode: bool) -> str:
    """``secret`` when it is strong; in dev mode a weak one (or the dev default) with a warning; else refuse."""
    problem = secret_problem(secret)
    if problem is None:
        return secret
    if not dev_mode:
        raise InsecureSecret(f"{problem}: refusing to sign or accept tokens with it. Set a random secret of at "
                             f"least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`), or CAMPUS_DEV_MODE=1 "
                             "to allow the development default on a laptop")
    log.warning("%s; CAMPUS_DEV_MODE=1, so tokens are signed with a development secret anyone can forge", problem)
    return secret or DEV_SECRET
