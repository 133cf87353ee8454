"""A Redis server on loopback, persisted under its folder (or not, for tests)."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack.procs import find_binary, port_open, wait_until


@dataclass
class RedisServer:
    """``redis-server`` on ``127.0.0.1:port`` with its files in ``data_dir``."""

    data_dir: Path
    port: int
    persistent: bool = True
    log_file: Path | None = None  # default: redis.log in data_dir

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    def server_pid(self) -> int | None:
        """The pid this server wrote when it still runs, else None. Its process title (Redis sets it to
        ``redis-server 127.0.0.1:<port>``) must name this server's port: a stale pid file whose pid went
        to another stack's Redis is not ours."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"redis-server" in command and f":{self.port}".encode() in command else None

    def owns_port(self) -> bool:
        """True when what answers on ``port`` is this server (not a system Redis, say)."""
        return self.server_pid() is not None and self.running()

    def start(self) -> None:
        """Start the server unless it already answers."""
        if self.running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_file or self.data_dir / "redis.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes"] if self.persistent else ["--save", "", "--appendonly", "no"]
        subprocess.run([find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port),
                        "--dir", str(self.data_dir), "--daemonize", "yes", "--pidfile", str(self.pid_file),
                        "--logfile", str(log_file), *persistence], check=True)
        wait_until(self.running, 20, f"redis on port {self.port}")

    def running(self) -> bool:
        """True when the server accepts connections."""
        return port_open(self.port)

    def stop(self) -> None:
        """Shut the server down if it runs."""
        if self.running():
            subprocess.run([find_binary("redis-cli"), "-p", str(self.port), "shutdown", "nosave"],
                           capture_output=True)

    def url(self, db: int = 0) -> str:
        """Redis URL for database ``db``."""
        return f"redis://127.0.0.1:{self.port}/{db}"
