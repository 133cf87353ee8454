"""The service keys of the local stack: a key pair per calling service, and who gets which half.

devstack generates each caller's private key once per stack (``secrets.env``) and derives the public
keys from it. Every process gets every public key, but a private key only reaches the processes that
sign with it: the gateway its own, the saga workers theirs, the participants none (so a participant
could not mint a token in the gateway's or the workers' name).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from campus_common.service_auth import (API_GATEWAY, CALLERS, SAGA_WORKERS, generate_private_key,
                                        private_key_variable, public_key_of, public_keys_variable)

GENERATORS = {private_key_variable(caller): generate_private_key for caller in CALLERS}


def public_keys(values: Mapping[str, str], environment: Mapping[str, str]) -> dict[str, str]:
    """Each caller's public keys: set in the environment (a rotation list), or derived from its private key."""
    return {public_keys_variable(caller): environment.get(public_keys_variable(caller))
            or public_key_of(values[private_key_variable(caller)]) for caller in CALLERS}


def caller_of(process: str) -> str | None:
    """The service a stack process signs as (``api_gateway``, ``worker.*``), or None."""
    if process == API_GATEWAY:
        return API_GATEWAY
    return SAGA_WORKERS if process.startswith("worker.") else None


def env_for(process: str, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the private keys ``process`` has no use for."""
    own = caller_of(process)
    foreign = {private_key_variable(caller) for caller in CALLERS if caller != own}
    return {name: value for name, value in env.items()
            if name not in foreign and name.removesuffix("_FILE") not in foreign}


def write_key_files(folder: Path) -> list[Path]:
    """``folder/<caller>/service.key`` (mode 0600) and ``folder/public/<caller>.pub`` for each caller
    whose key does not exist yet (compose's one-shot ``service-keys`` container); the files written."""
    written = []
    for caller in CALLERS:
        private_path, public_path = folder / caller / "service.key", folder / "public" / f"{caller}.pub"
        if private_path.is_file():
            private = private_path.read_text().strip()
        else:
            private = generate_private_key()
            private_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(private + "\n")
            written.append(private_path)
        if not public_path.is_file() or public_path.read_text().strip() != public_key_of(private):
            public_path.parent.mkdir(parents=True, exist_ok=True)
            public_path.write_text(public_key_of(private) + "\n")
            written.append(public_path)
    return written


if __name__ == "__main__":
    for path in write_key_files(Path(sys.argv[1] if len(sys.argv) > 1 else "/keys")):
        print(f"wrote {path}")
