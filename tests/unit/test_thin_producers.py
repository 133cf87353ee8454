"""The gateway starts sagas by task name: it loads neither the workers' tasks nor participant code."""
from __future__ import annotations

import json
import subprocess
import sys

from devstack.config import REPO_ROOT

PROBE = """
import json, os, sys
os.environ["CAMPUS_DEV_MODE"] = "1"
from api_gateway import create_app
create_app()
from saga_workers import producer
app = producer.app()
print(json.dumps({"modules": sorted(sys.modules), "tasks": sorted(t for t in app.tasks if t.startswith("saga.")),
                  "routes": sorted(app.conf.task_routes)}))
"""


def test_the_gateway_process_imports_no_tasks_and_no_participant_and_publishes_by_route():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = set(seen["modules"])
    assert "saga_workers.tasks" not in loaded and "saga_workers.bootstrap" not in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("order_service", "user_service", "payment_service",
                                                          "notification_service")}
    assert seen["tasks"] == [], "a publishing-only app: the tasks are the workers'"
    assert "saga.create_order.*" in seen["routes"] and "saga.maintenance.*" in seen["routes"]
