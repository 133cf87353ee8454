"""Which stack a command-line tool acts on: the explicit environment, then the stack's stack.env."""
from __future__ import annotations

import os
from pathlib import Path

from campus_common.stackenv import load_stack_env

# devstack builds its processes' URLs from these ports the same way (devstack/config.py).
DERIVED = {
    "DATABASE_URL": ("PG_PORT", "postgresql+psycopg2://campus:campus@127.0.0.1:{port}/campus"),
    "REDIS_URL": ("REDIS_PORT", "redis://127.0.0.1:{port}/0"),
}


def point_at_stack() -> Path | None:
    """Fill the environment for a tool: URLs follow explicit ports, the rest comes from stack.env.

    A port given alone (``PG_PORT=5433 celery ... saga list``) must not be overruled by the
    DATABASE_URL of the default stack's stack.env, so URLs are derived from ports first.
    Returns the stack.env file read, if any.
    """
    for url_var, (port_var, template) in DERIVED.items():
        port = os.environ.get(port_var)
        if port and not os.environ.get(url_var):
            if not port.isdigit():
                raise ValueError(f"{port_var} must be a port number, got {port!r}")
            os.environ[url_var] = template.format(port=port)
    return load_stack_env()
