"""The stack's processes under its supervisord: start, stop, find, and what supervision did.

supervisord is each program's parent: it knows a process by its own handle (no pid files to
trust, no command lines to re-read), restarts it when it exits, and signals only its own children.
"""
from __future__ import annotations

import os
import re
import signal
import time
import xmlrpc.client
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import supervisord
from devstack.supervisord import Program

__all__ = ["Program", "ProcessState", "Supervisor", "is_alive", "tail"]

RUNNING_STATES = ("STARTING", "RUNNING", "BACKOFF")  # BACKOFF: supervisord is about to try again
_EXITED = re.compile(r"^(\S+ \S+) \w+ exited: (\S+) \((.*)\)$")
_GAVE_UP = re.compile(r"^\S+ \S+ \w+ gave up: (\S+) ")


@dataclass
class ProcessState:
    """One program as supervisord sees it, and what supervision did to it since supervisord started."""

    name: str
    state: str = "STOPPED"
    pid: int = 0
    uptime: float = 0.0
    restarts: int = 0  # exits nobody asked for, each followed by a restart (unless it gave up: FATAL)
    last_exit: str = ""  # "<time> <reason>"
    spawn_error: str = ""

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


@dataclass
class Supervisor:
    """This stack's supervisord (in ``run_dir``), its programs' logs in ``logs_dir``."""

    run_dir: Path
    logs_dir: Path
    programs: list[Program] = field(default_factory=list)

    def log_file(self, program: Program | str) -> Path:
        return self.logs_dir / f"{_name(program)}.log"

    def tail(self, program: Program | str, lines: int = 25) -> str:
        return tail(self.log_file(program), lines)

    def running(self) -> bool:
        return supervisord.answering(self.run_dir)

    def ensure_running(self, env: dict[str, str], own_env: dict[str, dict[str, str]], cwd: Path) -> bool:
        """Write the configuration (``own_env``: what a program gets on top of supervisord's ``env``);
        start supervisord unless it runs (True when it had to)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        text = supervisord.config_text(self.run_dir, self.logs_dir, cwd, self.programs, own_env)
        conf = supervisord.conf_path(self.run_dir)
        conf.touch(mode=0o600)
        conf.chmod(0o600)  # it holds the service keys of the programs that sign requests
        conf.write_text(text)
        if self.running():
            self._apply_config()
            return False
        supervisord.start_daemon(self.run_dir, env, cwd)
        return True

    def _apply_config(self) -> None:
        """Programs added since supervisord started are added; changed ones are replaced when stopped."""
        rpc = supervisord.rpc(self.run_dir)
        [[added, changed, _]] = rpc.reloadConfig()
        states = self.states()
        for name in changed:
            if not states.get(name, ProcessState(name)).running:
                rpc.removeProcessGroup(name)
                added.append(name)
        for name in added:
            rpc.addProcessGroup(name)

    def states(self) -> dict[str, ProcessState]:
        """Every program's state (all STOPPED when supervisord does not run)."""
        states = {p.name: ProcessState(p.name) for p in self.programs}
        if not self.running():
            return states
        for info in supervisord.rpc(self.run_dir).getAllProcessInfo():
            state = states.setdefault(info["name"], ProcessState(info["name"]))
            state.state, state.pid, state.spawn_error = info["statename"], info["pid"], info["spawnerr"]
            state.uptime = max(0.0, info["now"] - info["start"]) if info["statename"] == "RUNNING" else 0.0
        for name, (restarts, last_exit) in self.exits().items():
            if name in states:
                states[name].restarts, states[name].last_exit = restarts, last_exit
        return states

    def pid(self, program: Program | str) -> int | None:
        """The pid of a running program, else None."""
        state = self.states().get(_name(program))
        return state.pid if state and state.running and state.pid else None

    def start(self, names: Iterable[str]) -> None:
        """Ask supervisord to start ``names`` (not waiting: health checks tell when they are ready)."""
        rpc = supervisord.rpc(self.run_dir)
        _each(rpc.startProcess, names, already="ALREADY_STARTED")

    def stop(self, names: Iterable[str], timeout: float = supervisord.STOP_WAIT_SECONDS + 10) -> list[str]:
        """Stop the running ones of ``names`` together (TERM, KILL of the group after a while); their names."""
        names = list(names)
        if not self.running():
            return []
        rpc = supervisord.rpc(self.run_dir)
        states = self.states()
        running = [n for n in names if n in states and states[n].running]
        _each(rpc.stopProcess, running, already="NOT_RUNNING")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(self.states()[n].state == "STOPPING" for n in running):
            time.sleep(0.2)
        return running

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Stop supervisord itself (and whatever still runs under it); True when it was running."""
        pid = supervisord.daemon_pid(self.run_dir)
        if self.running():
            supervisord.rpc(self.run_dir).shutdown()
        elif pid is not None:
            os.kill(pid, signal.SIGTERM)  # not answering: TERM still makes it stop its programs first
        else:
            return False
        deadline = time.monotonic() + timeout
        while pid is not None and is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        return True

    def exits(self) -> dict[str, tuple[int, str]]:
        """{program: (unexpected exits, the last one's time and reason)} since supervisord last started."""
        text = tail(self.logs_dir / "supervisord.log", 20000)
        start = text.rfind("supervisord started with pid")
        found: dict[str, tuple[int, str]] = {}
        for line in text[max(start, 0):].splitlines():
            if match := _EXITED.match(line):  # "stopped:" is what we asked for; "exited:" we did not
                when, name, reason = match.groups()
                reason = reason.replace("; not expected", "").replace("; expected", "")
                found[name] = (found.get(name, (0, ""))[0] + 1, f"{when[11:19]} {reason}")
            elif match := _GAVE_UP.match(line):
                count, last = found.get(match.group(1), (0, ""))
                found[match.group(1)] = (count, f"{last} (gave up: FATAL)")
        return found


def is_alive(pid: int) -> bool:
    """True for a running process (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of the file at ``path`` (empty when it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 256 * 1024))
            return b"\n".join(handle.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError:
        return ""


def _each(call: Callable[[str, bool], Any], names: Iterable[str], *, already: str) -> None:
    """``call(name, wait=False)`` for each name; a fault saying it is ``already`` so is no error."""
    for name in names:
        try:
            call(name, False)
        except xmlrpc.client.Fault as fault:
            if already not in fault.faultString:
                raise


def _name(program: Program | str) -> str:
    return program if isinstance(program, str) else program.name
