"""The local stack's environment file: how command-line tools find the stack they belong to.

devstack writes ``<RUN_DIR>/stack.env`` (``KEY=VALUE`` lines, mode 0600) with every variable it
gives the stack's processes: addresses, ports and the secrets it generated for that stack. A
tool run by hand (the token CLI, the saga CLI) loads it, so it talks to the same Postgres and
signs with the same secret as the stack, without anybody copying values around.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = "stack.env"
REPO_ROOT = Path(__file__).resolve().parents[1]


def run_dir() -> Path:
    """The stack's run folder: ``RUN_DIR`` or ``<repo>/.run``."""
    return Path(os.environ.get("RUN_DIR") or REPO_ROOT / ".run")


def stack_env_path(folder: Path | None = None) -> Path:
    """Where the stack's environment file is (or would be)."""
    return (folder or run_dir()) / FILE_NAME


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines; blank lines and ``#`` comments are skipped."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def write_env_file(path: Path, values: dict[str, str], header: str = "") -> None:
    """Write ``values`` as ``KEY=VALUE`` lines, readable by the owner only (it holds secrets)."""
    for key, value in values.items():
        if "\n" in value or "=" in key or not key:
            raise ValueError(f"cannot write {key!r} to an env file")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        if header:
            out.write("".join(f"# {line}\n" for line in header.splitlines()))
        out.write("".join(f"{key}={value}\n" for key, value in values.items()))
    os.replace(tmp, path)  # readers never see half a file


def load_stack_env(folder: Path | None = None) -> Path | None:
    """Fill ``os.environ`` from the stack's file for keys not set already; the file used, or None.

    The explicit environment always wins, so ``PG_PORT=5433 tool ...`` still means what it says.
    """
    path = stack_env_path(folder)
    if not path.is_file():
        return None
    for key, value in read_env_file(path).items():
        if not os.environ.get(key):
            os.environ[key] = value
    return path
