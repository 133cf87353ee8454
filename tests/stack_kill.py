"""A power cut for a devstack stack: SIGKILL supervisord and every process group it runs at once."""
from __future__ import annotations

import os
import signal
from contextlib import suppress
from unittest import mock

from devstack import supervisord
from devstack.commands import supervisor
from devstack.config import load_stack_config
from devstack.supervisor import Supervisor


def stack_supervisor(env: dict[str, str]) -> Supervisor:
    """The Supervisor of the stack whose environment is ``env``."""
    with mock.patch.dict(os.environ, env, clear=True):
        return supervisor(load_stack_config())


def kill_everything(env: dict[str, str]) -> int:
    """SIGKILL the stack's supervisord and all its processes (their children too); how many groups."""
    sup = stack_supervisor(env)
    groups = [state.pid for state in sup.states().values() if state.pid]
    daemon = supervisord.daemon_pid(sup.run_dir)
    assert daemon is not None and groups, "the stack is not running"
    os.kill(daemon, signal.SIGKILL)
    for pgid in groups:  # each program leads its own process group (supervisord's setpgrp)
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    return len(groups)
