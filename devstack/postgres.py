"""A throw-away or persistent PostgreSQL cluster on loopback, run as a non-root user."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.procs import as_postgres_user, find_binary, port_open, wait_until


@dataclass
class PostgresCluster:
    """A cluster in ``data_dir`` listening on ``127.0.0.1:port``.

    ``durable`` keeps Postgres's own defaults (``fsync``, ``synchronous_commit`` on): a commit is
    on disk when it returns. Off only for throw-away test clusters, where speed beats crash safety.
    """

    data_dir: Path
    port: int
    log_file: Path
    durable: bool = True

    def _run(self, *cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_postgres_user(), *cmd], check=True, capture_output=True, text=True)

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        """Create the cluster once (trust auth on loopback only)."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self._own(self.data_dir)
        self._own(self.log_file.parent)
        self._run(find_binary("initdb"), "-D", str(self.data_dir), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C")

    def start(self) -> None:
        """Start the server unless it already answers."""
        self.init()
        if self.running():
            return
        self._own(self.log_file.parent)
        opts = " ".join(shlex.quote(option) for option in self.server_options())
        self._run(find_binary("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                  "-o", opts, "-w", "-t", "60", "start")
        wait_until(self.running, 30, f"postgres on port {self.port}")

    def server_options(self) -> list[str]:
        """The server's command-line settings (pg_ctl's ``-o``, or ``postgres`` run in the foreground)."""
        options = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}", "-c", "unix_socket_directories=",
                   "-c", "max_connections=300"]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        return options

    def running(self) -> bool:
        """True when the server's port accepts connections."""
        return port_open(self.port)

    def accepting(self) -> bool:
        """True when the server takes queries (after a crash its port opens before recovery ends)."""
        try:
            with self._admin_cursor() as cur:
                cur.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - "the database system is starting up", refused, ...
            return False
        return True

    def server_pid(self) -> int | None:
        """The pid of this cluster's postmaster when it runs on ``port``, else None."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return pid if port == self.port else None

    def owns_port(self) -> bool:
        """True when what answers on ``port`` is this cluster (not a system one, say)."""
        return self.server_pid() is not None and self.running()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server if it runs."""
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run([*as_postgres_user(), find_binary("pg_ctl"), "-D", str(self.data_dir),
                            "-m", mode, "-w", "stop"], capture_output=True, text=True)

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        """SQLAlchemy URL for ``database`` on this cluster."""
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, owner: str | None = None) -> None:
        """Create ``name`` (owned by ``owner`` when given) unless it exists."""
        from psycopg2 import sql

        with self._admin_cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                owned_by = sql.SQL(" OWNER {}").format(sql.Identifier(owner)) if owner else sql.SQL("")
                cur.execute(sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(name), owned_by))

    def ensure_role(self, name: str, password: str | None) -> None:
        """Create the login role ``name`` unless it exists; (re)set its password."""
        from psycopg2 import sql

        with self._admin_cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)))

    @contextmanager
    def _admin_cursor(self) -> Iterator[Any]:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()
