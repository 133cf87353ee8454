"""PostgreSQL and Redis from the system's packages, installed only when they are absent."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from devstack.errors import StackError
from devstack.procs import find_binary

# Debian package -> binaries the stack runs from it
PACKAGES: dict[str, tuple[str, ...]] = {
    "postgresql": ("initdb", "pg_ctl"),
    "redis-server": ("redis-server", "redis-cli"),
}
# Only the tests need these: the saga console's browser test drives Debian's own chromium.
TEST_PACKAGES: dict[str, tuple[str, ...]] = {
    "chromium": ("chromium",),
    "chromium-driver": ("chromedriver",),
}


def _present(binary: str) -> bool:
    try:
        find_binary(binary)
    except FileNotFoundError:
        return False
    return True


def missing_packages(test_tools: bool = False) -> list[str]:
    """The packages of which a binary cannot be found (with ``test_tools``, the tests' too)."""
    wanted = {**PACKAGES, **(TEST_PACKAGES if test_tools else {})}
    return [package for package, binaries in wanted.items() if not all(map(_present, binaries))]


def ensure_system_packages(say: Callable[[str], None] = print, test_tools: bool = False) -> None:
    """Install the missing packages with apt-get (as root), then keep their own services out of the way.

    With ``test_tools``, the tests' browser too, on a best-effort basis: where it cannot be
    installed, the one test that needs it skips instead of the whole suite failing.
    """
    missing = missing_packages()
    if missing:
        _install(missing, say)
        quiet_system_services(missing)
    tools = [package for package in missing_packages(test_tools) if package in TEST_PACKAGES]
    if tools:
        try:
            _install(tools, say)
        except StackError as exc:
            say(f"{exc}\nthe saga console's browser test will be skipped")


def _install(packages: list[str], say: Callable[[str], None]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(f"{', '.join(packages)} missing: install them (sudo apt-get install -y {' '.join(packages)})")
    say(f"installing {', '.join(packages)} from the system's packages (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
        done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0:
            raise StackError(f"`{' '.join(cmd)}` failed:\n{(done.stdout + done.stderr)[-2000:]}")


def quiet_system_services(packages: list[str]) -> None:
    """Stop (and keep from starting at boot) the services Debian starts on install: the stack runs
    its own servers under RUN_DIR, and the system ones would hold ports 5432 and 6379."""
    systemd = shutil.which("systemctl") is not None and Path("/run/systemd/system").exists()
    if "postgresql" in packages:
        if systemd:
            _best_effort(["systemctl", "disable", "--now", "postgresql"])
        clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout
        for line in clusters.splitlines():
            version, name = line.split()[:2]
            _best_effort(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "stop"])
            start_conf = Path("/etc/postgresql") / version / name / "start.conf"
            if start_conf.exists():
                start_conf.write_text("manual\n")
    if "redis-server" in packages:
        _best_effort(["service", "redis-server", "stop"])
        if systemd:
            _best_effort(["systemctl", "disable", "--now", "redis-server"])
        elif shutil.which("update-rc.d"):
            _best_effort(["update-rc.d", "redis-server", "disable"])


def _best_effort(cmd: list[str]) -> None:
    if shutil.which(cmd[0]):
        subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
