"""devstack's supervisord configuration and what `make status` reads back from supervisord's log."""
from __future__ import annotations

import configparser
import os
from pathlib import Path

from devstack.config import load_stack_config
from devstack.stack import components, datastores
from devstack.supervisor import Supervisor
from devstack.supervisord import START_RETRIES, config_text


def parsed(tmp_path: Path) -> configparser.RawConfigParser:
    cfg = load_stack_config()
    programs = [c.program for c in datastores(cfg) + components(cfg)]
    parser = configparser.RawConfigParser()
    parser.read_string(config_text(tmp_path, tmp_path / "logs", tmp_path, programs))
    return parser


def test_every_process_of_the_stack_is_restarted_with_a_crash_loop_limit(tmp_path: Path) -> None:
    conf = parsed(tmp_path)
    programs = [s.removeprefix("program:") for s in conf.sections() if s.startswith("program:")]
    assert {"postgres", "redis", "api_gateway", "beat", "worker.create_order_saga"} <= set(programs)
    for name in programs:
        section = conf[f"program:{name}"]
        assert (section["autostart"], section["autorestart"]) == ("false", "true"), name  # `up` starts in order
        assert int(section["startretries"]) == START_RETRIES and int(section["startsecs"]) > 0
        assert section["command"].startswith("setpriv --pdeathsig="), "a program must die with supervisord"
        assert section["stdout_logfile"] == str(tmp_path / "logs" / f"{name}.log")
    assert conf["program:postgres"]["stopsignal"] == "INT"  # fast shutdown, not "smart"
    assert ("user" in conf["program:postgres"]) == (os.geteuid() == 0)


def test_percent_signs_reach_the_command_line_unexpanded(tmp_path: Path) -> None:
    command = parsed(tmp_path)["program:worker.create_order_saga"]["command"]
    assert "create_order_saga@%%h" in command  # supervisord turns %% into % (Celery's %h: the host name)


def test_restarts_and_the_last_exit_count_since_supervisord_last_started(tmp_path: Path) -> None:
    (tmp_path / "supervisord.log").write_text("\n".join([
        "2026-12-01 10:00:00,000 INFO supervisord started with pid 10",
        "2026-12-01 10:00:05,000 WARN exited: beat (terminated by SIGKILL; not expected)",
        "2026-12-01 11:00:00,000 INFO supervisord started with pid 20",
        "2026-12-01 11:00:05,000 WARN exited: beat (terminated by SIGKILL; not expected)",
        "2026-12-01 11:00:09,000 INFO exited: redis (exit status 0; expected)",
        "2026-12-01 11:00:10,000 INFO stopped: flower (terminated by SIGTERM)",
        "2026-12-01 11:01:00,000 WARN exited: worker.x (exit status 1; not expected)",
        "2026-12-01 11:01:02,000 INFO gave up: worker.x entered FATAL state, too many start retries too quickly",
    ]))
    exits = Supervisor(tmp_path, tmp_path).exits()
    assert exits["beat"] == (1, "11:00:05 terminated by SIGKILL")
    assert exits["redis"] == (1, "11:00:09 exit status 0"), "an exit nobody asked for, whatever its status"
    assert "flower" not in exits, "a stop we asked for is not a restart"
    assert exits["worker.x"] == (1, "11:01:00 exit status 1 (gave up: FATAL)")
