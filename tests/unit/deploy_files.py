"""Readers of the deployment files (docker-compose.yml, k8s/), shared by the manifest tests."""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest

from saga_workers.registry import WORKER_QUEUES, node_name

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "k8s"
APP_IMAGE = "campus-delivery-sagas"

WEB_APPS = {  # compose service / k8s name -> (package, port)
    "user-service": ("user_service", 3001),
    "order-service": ("order_service", 3002),
    "payment-service": ("payment_service", 3003),
    "notification-service": ("notification_service", 3006),
    "api-gateway": ("api_gateway", 3100),
}
NODE_NAMES = {queue: node_name(queue) for queue in WORKER_QUEUES}


# --- helpers -------------------------------------------------------------------------------

# Read by the tools themselves, not by config.py: Flower's --basic-auth option, gunicorn's options,
# prometheus_client's multiprocess folder, Grafana's admin password (GF_SECURITY_ADMIN_PASSWORD).
TOOL_ENV_NAMES = {"FLOWER_BASIC_AUTH", "GUNICORN_CMD_ARGS", "PROMETHEUS_MULTIPROC_DIR", "GRAFANA_ADMIN_PASSWORD"}


def config_env_names() -> set[str]:
    """Every quoted upper-case name in campus_common/config.py (the settings it reads), the tools' own, and the
    service keys."""
    from campus_common.service_auth import environment_variables

    names = set(re.findall(r'"([A-Z][A-Z0-9_]*)"', (ROOT / "campus_common" / "config.py").read_text()))
    return names | TOOL_ENV_NAMES | environment_variables()


@functools.cache
def compose() -> dict[str, Any]:
    """docker-compose.yml, parsed once (tests only read it)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def app_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the project's image."""
    return {name: svc for name, svc in compose_services().items() if "build" in svc}


def flag(command: list[str], name: str) -> str | None:
    """The value after ``name`` in an argv list (None when absent)."""
    return command[command.index(name) + 1] if name in command else None


def generated_objects(kustomization: dict[str, Any]) -> list[dict[str, Any]]:
    """The Secrets and ConfigMaps kustomize generates, with the keys of their committed ``.env.example``
    (the real env files are never committed)."""
    objects = []
    for kind, field, generators in (("Secret", "stringData", kustomization.get("secretGenerator", [])),
                                    ("ConfigMap", "data", kustomization.get("configMapGenerator", []))):
        for generator in generators:
            data: dict[str, str] = {}
            for env in generator["envs"]:
                lines = (K8S_DIR / f"{env}.example").read_text().splitlines()
                pairs = [line.partition("=") for line in lines if "=" in line and not line.startswith("#")]
                data.update((key, value) for key, _, value in pairs)
            objects.append({"kind": kind, "metadata": {"name": generator["name"]}, field: data})
    return objects


@functools.cache
def k8s_objects() -> tuple[dict[str, Any], ...]:
    """Every object of every manifest listed in k8s/kustomization.yaml, parsed once."""
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    objects = []
    for resource in kustomization["resources"]:
        objects += [doc for doc in yaml.safe_load_all((K8S_DIR / resource).read_text()) if doc]
    objects += generated_objects(kustomization)
    return tuple(objects)


def k8s_by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in k8s_objects() if obj["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def app_containers() -> list[tuple[str, dict[str, Any]]]:
    """(workload name, container) for every container and init container of the project's image."""
    found = []
    for obj in k8s_objects():
        if obj["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        spec = pod_spec(obj)
        for box in spec.get("initContainers", []) + spec["containers"]:
            if box["image"].split(":")[0] == APP_IMAGE:
                found.append((obj["metadata"]["name"], box))
    return found


def main_container(workload: dict[str, Any]) -> dict[str, Any]:
    (box,) = pod_spec(workload)["containers"]
    return box


def worker_deployments() -> dict[str | None, list[str]]:
    """Queue -> its worker Deployments (a list, so duplicates show)."""
    by_queue: dict[str | None, list[str]] = {}
    for name, deployment in k8s_by_kind("Deployment").items():
        command = main_container(deployment).get("command", [])
        if command[:4] == ["celery", "-A", "saga_workers", "worker"]:
            by_queue.setdefault(flag(command, "-Q"), []).append(name)
    return by_queue


def gunicorn_command(package: str, port: int) -> list[str]:
    """The one way a web app is served: the shared gunicorn config, gevent workers for the public gateway."""
    worker_class = ["--worker-class", "gevent"] if package == "api_gateway" else []
    return ["gunicorn", "-c", "python:campus_common.gunicorn_conf", *worker_class, "--bind", f"0.0.0.0:{port}",
            "--workers", "2", f"{package}:create_app()"]
