"""`make down` works without the virtualenv: its path imports only the standard library and the repo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_down_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    # -S: no site-packages, so no PyJWT, Celery or saga definitions; the queues to stop come from supervisord.
    env = {**os.environ, "RUN_DIR": str(tmp_path / "run")}
    done = subprocess.run([sys.executable, "-S", "-m", "devstack", "down"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nothing was running"
