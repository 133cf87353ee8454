"""``python -m devstack up|down|status|run|demo|system``: the local stack, one command each."""
from __future__ import annotations

import argparse
import io
import sys

COMMANDS = {
    "up": "start Postgres, Redis, the services, the saga workers, beat and Flower; wait until healthy",
    "down": "stop all of it, Postgres and Redis included",
    "status": "show what runs and whether it is healthy (exit 3 when something is not)",
    "run": "up, then seed demo users and walk orders through their sagas",
    "demo": "the demo alone, against a stack that is already up",
    "system": "install PostgreSQL, Redis and the tests' chromium from the system's packages when absent (make test)",
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command and run it; errors are reported in one paragraph, not a traceback."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    command = parser.parse_args(argv).command
    if isinstance(sys.stdout, io.TextIOWrapper):  # only a file stream has line buffering to switch on
        sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, under make and in CI logs

    from devstack import commands
    from devstack.config import load_stack_config
    from devstack.errors import StackError

    cfg = load_stack_config()
    try:
        if command == "up":
            commands.up(cfg)
        elif command == "down":
            commands.down(cfg)
        elif command == "status":
            from devstack.status import status

            return 0 if status(cfg) else 3
        elif command == "system":
            from devstack.system import ensure_system_packages

            ensure_system_packages(test_tools=True)
        else:
            from devstack.demo import run_demo

            if command == "run":
                commands.up(cfg, show_addresses=False)
            run_demo(cfg)
            if command == "run":
                commands.print_addresses(cfg)
    except (StackError, TimeoutError, RuntimeError, OSError) as exc:
        print(f"\ndevstack {command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
