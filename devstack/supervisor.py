"""Background processes with a pid file and a log file each: start, find alive, stop.

Each process leads its own session (process group), so stopping it also ends what it forked
(gunicorn workers, Celery pool processes), and it outlives the command that started it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from devstack.procs import live_processes, send_group_signal, send_signal


@dataclass(frozen=True)
class Program:
    """One long-running process of the stack: its name (files), command line and identity check."""

    name: str
    argv: tuple[str, ...]
    marker: str  # a string its command line contains: a recycled pid is not mistaken for it


def is_alive(pid: int) -> bool:
    """True for a running process (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Supervisor:
    """Keeps pid files in ``pids_dir`` and logs in ``logs_dir``."""

    def __init__(self, pids_dir: Path, logs_dir: Path) -> None:
        self.pids_dir, self.logs_dir = pids_dir, logs_dir

    def pid_file(self, program: Program) -> Path:
        return self.pids_dir / f"{program.name}.pid"

    def log_file(self, program: Program) -> Path:
        return self.logs_dir / f"{program.name}.log"

    def pid(self, program: Program) -> int | None:
        """The pid of ``program`` when it runs, else None."""
        try:
            pid = int(self.pid_file(program).read_text().strip())
        except (OSError, ValueError):
            return None
        if is_alive(pid) and program.marker in _cmdline(pid):
            return pid
        return None

    def uptime(self, program: Program) -> float:
        """Seconds since ``program`` was started (by its pid file's age)."""
        try:
            return time.time() - self.pid_file(program).stat().st_mtime
        except OSError:
            return 0.0

    def start(self, program: Program, env: dict[str, str], cwd: Path) -> int:
        """Start ``program`` in the background; its previous log is kept as ``<name>.log.1``."""
        self.pids_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._end_leftovers(program)
        log_path = self.log_file(program)
        if log_path.exists() and log_path.stat().st_size:
            log_path.replace(log_path.with_name(log_path.name + ".1"))
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(program.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=cwd, env=env, start_new_session=True)
        self.pid_file(program).write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, programs: Iterable[Program], timeout: float = 20.0) -> list[str]:
        """Stop every running one of ``programs`` (TERM, then KILL after ``timeout``); return their names."""
        programs = list(programs)
        running = {p.name: (p, pid) for p in programs if (pid := self.pid(p)) is not None}
        for _, pid in running.values():
            send_signal(pid, signal.SIGTERM)  # the leader only: gunicorn and Celery shut down warm
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(is_alive(pid) for _, pid in running.values()):
            time.sleep(0.2)
        for program, pid in running.values():
            send_group_signal(pid, signal.SIGKILL)  # whatever is left of the group, leader or orphans
            self.pid_file(program).unlink(missing_ok=True)
        for program in programs:
            if program.name not in running:
                self.pid_file(program).unlink(missing_ok=True)
        return list(running)

    def _end_leftovers(self, program: Program) -> None:
        """Kill what is left of a previous run whose leader died (a killed Celery worker's pool processes)."""
        try:
            old = int(self.pid_file(program).read_text().strip())
        except (OSError, ValueError):
            return
        for pid in live_processes(group=old):
            if program.marker in _cmdline(pid):
                send_signal(pid, signal.SIGKILL)

    def tail(self, program: Program, lines: int = 25) -> str:
        """The last ``lines`` lines of ``program``'s log."""
        return tail(self.log_file(program), lines)


def tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of the file at ``path`` (empty when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            return b"\n".join(handle.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError:
        return ""

