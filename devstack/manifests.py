"""``python -m devstack.manifests [--check]``: the saga workers of docker-compose.yml and k8s/, from the registry.

Every queue of the saga registry, plus the maintenance queue, gets one worker in each deployment:
``k8s/workers.yaml`` (one Deployment per queue, from ``templates/k8s-worker.yaml``) and the marked
regions of ``docker-compose.yml`` (from ``templates/compose-worker.yaml``). Run it after adding or
removing a saga and commit the result; ``--check`` (and tests/unit/test_worker_manifests.py) fails
when the checked-in files are not what the registry gives.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from devstack.config import CELERY_THREADS, MAINTENANCE_THREADS, REPO_ROOT, WORKER_POOL_OPTIONS

TEMPLATES = Path(__file__).parent / "templates"
K8S_WORKERS = REPO_ROOT / "k8s" / "workers.yaml"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
BEGIN = "# BEGIN {region}: written by `python -m devstack.manifests` from the saga registry; do not edit by hand"
END = "# END {region}"

K8S_HEADER = """\
# The saga workers: one Deployment per queue, so a backlog of one saga type never starves another;
# raise replicas to scale a queue (steps are idempotent and acks_late, so that is safe).
# Written by `python -m devstack.manifests` from the saga registry and devstack/templates/k8s-worker.yaml;
# do not edit by hand.
"""


def fields(queue: str) -> dict[str, str]:
    """What the templates fill in for ``queue``'s worker."""
    from saga_workers.registry import MAINTENANCE_QUEUE, node_name, worker_name

    maintenance = queue == MAINTENANCE_QUEUE
    options = (*WORKER_POOL_OPTIONS, "--concurrency", str(MAINTENANCE_THREADS if maintenance else CELERY_THREADS))
    return {"name": worker_name(queue), "queue": queue, "node": node_name(queue),
            "options": ", ".join(json.dumps(option) for option in options),  # devstack's, as a YAML flow list
            "calls_participants": "false" if maintenance else "true"}


def render(template: str, queue: str) -> str:
    """``template`` (its leading comment dropped) with ``{{field}}`` replaced for ``queue``."""
    body = re.sub(r"\A(#[^\n]*\n)+", "", (TEMPLATES / template).read_text())
    values = fields(queue)
    return re.sub(r"\{\{(\w+)\}\}", lambda match: values[match.group(1)], body)


def _purpose(queue: str) -> str:
    from saga_workers.registry import MAINTENANCE_QUEUE

    if queue == MAINTENANCE_QUEUE:
        return "# Worker for beat-driven scans (accept timeouts, stalled sagas); never on a saga queue.\n"
    return f"# Saga worker for the {queue.removesuffix('_saga')} saga's queue.\n"


def k8s_workers(queues: Sequence[str]) -> str:
    """The text of k8s/workers.yaml for ``queues``."""
    return K8S_HEADER + "".join(f"---\n{_purpose(q)}{render('k8s-worker.yaml', q)}" for q in queues)


def replace_region(text: str, region: str, body: str) -> str:
    """``text`` with the lines between the BEGIN and END markers of ``region`` replaced by ``body``."""
    begin, end = BEGIN.format(region=region), END.format(region=region)
    pattern = re.compile(rf"^([ \t]*){re.escape(begin)}\n.*?^[ \t]*{re.escape(end)}\n", re.S | re.M)
    match = pattern.search(text)
    if match is None:
        raise ValueError(f"{COMPOSE_FILE.name} has no region {region!r} (marked {begin!r} ... {end!r})")
    indent = match.group(1)
    return text[:match.start()] + f"{indent}{begin}\n{body}{indent}{end}\n" + text[match.end():]


def compose_text(current: str, queues: Sequence[str]) -> str:
    """docker-compose.yml with its worker services and Flower's dependency on them written for ``queues``."""
    started = "".join(f"  {fields(q)['name']}:\n    condition: service_started\n" for q in queues)
    text = replace_region(current, "workers-started", "x-workers-started: &workers-started\n" + started)
    return replace_region(text, "workers", "\n".join(render("compose-worker.yaml", q) for q in queues))


def expected(queues: Sequence[str] | None = None) -> dict[Path, str]:
    """Each generated file and the text the registry gives it."""
    if queues is None:
        from saga_workers.registry import WORKER_QUEUES

        queues = WORKER_QUEUES
    return {K8S_WORKERS: k8s_workers(queues), COMPOSE_FILE: compose_text(COMPOSE_FILE.read_text(), queues)}


def main(argv: list[str] | None = None) -> int:
    """Write the generated files, or with ``--check`` name those that are out of date (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m devstack.manifests", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is out of date")
    check = parser.parse_args(argv).check
    files = expected()
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text() != text]
    for path in stale:
        rel = path.relative_to(REPO_ROOT)
        if check:
            print(f"{rel} is out of date: run `python -m devstack.manifests`", file=sys.stderr)
        else:
            path.write_text(files[path])
            print(f"wrote {rel}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
