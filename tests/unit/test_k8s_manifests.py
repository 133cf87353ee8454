"""The k8s/ manifests say what the platform needs (read as YAML; `kubectl kustomize` runs when installed)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from saga_workers.registry import WORKER_QUEUES, worker_name
from tests.unit.deploy_files import (K8S_DIR, NODE_NAMES, ROOT, WEB_APPS, app_containers, compose_services,
                                     config_env_names, flag, gunicorn_command, k8s_by_kind, k8s_objects,
                                     main_container, pod_spec, worker_deployments, yaml)


# --- Kubernetes -------------------------------------------------------------------------------

def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())["resources"])

    assert listed == {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize("name", WEB_APPS)
def test_k8s_web_app_serves_its_port_with_healthz_probes_and_resources(name: str) -> None:
    package, port = WEB_APPS[name]
    box = main_container(k8s_by_kind("Deployment")[name])
    service = k8s_by_kind("Service")[name]

    assert box["command"] == gunicorn_command(package, port)
    assert box["ports"] == [{"name": "http", "containerPort": port}]
    ready = "/readyz" if name == "api-gateway" else "/healthz"
    assert box["readinessProbe"]["httpGet"] == {"path": ready, "port": "http"}
    assert box["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"cpu", "memory"} <= set(box["resources"]["requests"])
    assert {"cpu", "memory"} <= set(box["resources"]["limits"])
    assert service["spec"]["ports"][0]["port"] == port


def test_k8s_every_queue_has_exactly_one_worker_deployment() -> None:
    by_queue = worker_deployments()

    assert {queue: len(names) for queue, names in by_queue.items()} == {queue: 1 for queue in WORKER_QUEUES}


@pytest.mark.parametrize("queue", WORKER_QUEUES)
def test_k8s_worker_is_pinged_by_its_node_name_and_may_finish_its_steps(queue: str) -> None:
    (name,) = worker_deployments()[queue]
    deployment = k8s_by_kind("Deployment")[name]
    box = main_container(deployment)
    node = NODE_NAMES[queue]

    assert flag(box["command"], "-n") == f"{node}@%h"
    assert flag(box["command"], "--prefetch-multiplier") == "1" and flag(box["command"], "-O") == "fair"
    assert f"inspect ping -d {node}@$HOSTNAME" in " ".join(box["livenessProbe"]["exec"]["command"])
    # Longer than the 30 s default, so a warm shutdown can finish the acks_late steps it holds.
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] >= 60
    assert box["resources"]["limits"]["memory"]


def test_k8s_runs_exactly_one_beat_and_never_two_during_a_rollout() -> None:
    deployments = k8s_by_kind("Deployment")
    beats = [name for name, d in deployments.items() if main_container(d).get("command", [])[3:4] == ["beat"]]

    assert beats == ["beat"]
    assert deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"] == {"type": "Recreate"}


def test_beat_is_checked_by_its_heartbeat_in_compose_and_k8s() -> None:
    probe = main_container(k8s_by_kind("Deployment")["beat"])["livenessProbe"]["exec"]["command"]
    assert probe[:3] == ["python", "-m", "saga_workers.beat_health"]
    assert compose_services()["beat"]["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "saga_workers.beat_health"]


def test_k8s_runs_migrations_as_a_job_and_flower_behind_a_service() -> None:
    job = k8s_by_kind("Job")["migrate"]
    flower = k8s_by_kind("Deployment")["flower"]

    assert main_container(job)["command"] == ["python", "-m", "devstack.migrate"]
    assert main_container(flower)["command"][:4] == ["celery", "-A", "saga_workers", "flower"]
    assert k8s_by_kind("Service")["flower"]["spec"]["ports"][0]["port"] == 5555


def test_k8s_app_containers_only_set_settings_that_config_reads() -> None:
    known = config_env_names()
    config_map = k8s_by_kind("ConfigMap")["campus-config"]
    secret = k8s_by_kind("Secret")["campus-secrets"]
    env_names = {var["name"] for _, box in app_containers() for var in box.get("env", [])}

    assert set(config_map["data"]) - known == set()
    assert set(secret["stringData"]) - known == set()
    assert env_names - known == set()


def test_k8s_jwt_secret_comes_from_a_secret_never_a_literal() -> None:
    gateway_env = {var["name"]: var for var in main_container(k8s_by_kind("Deployment")["api-gateway"])["env"]}
    literal = [(name, var["name"]) for name, box in app_containers() for var in box.get("env", [])
               if var["name"] == "GATEWAY_JWT_SECRET" and "value" in var]

    assert literal == []
    assert gateway_env["GATEWAY_JWT_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "campus-secrets"
    assert "GATEWAY_JWT_SECRET" not in k8s_by_kind("ConfigMap")["campus-config"]["data"]
    assert "GATEWAY_JWT_SECRET" in k8s_by_kind("Secret")["campus-secrets"]["stringData"]


def test_k8s_secrets_come_from_files_never_committed() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    env_files = [env for gen in kustomization["secretGenerator"] + kustomization["configMapGenerator"]
                 for env in gen["envs"]]
    ignored = (ROOT / ".gitignore").read_text().splitlines()

    assert [obj for obj in k8s_objects() if obj["kind"] == "Secret" and "apiVersion" in obj] == []  # none inline
    assert all("REPLACE-ME" not in (K8S_DIR / r).read_text() for r in kustomization["resources"])
    assert "k8s/*.env" in ignored and all(env.endswith(".env") for env in env_files)
    assert {"campus-secrets", "postgres-credentials", "service-key-api-gateway",
            "service-key-saga-workers"} <= set(k8s_by_kind("Secret"))


def test_k8s_each_private_service_key_reaches_only_the_pods_that_sign_with_it() -> None:
    holders: dict[str, set[str]] = {}
    for name, box in app_containers():
        for var in box.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef", {})
            if ref.get("name", "").startswith("service-key-"):
                holders.setdefault(ref["name"], set()).add(name)
        if any(src.get("configMapRef", {}).get("name") == "service-public-keys" for src in box.get("envFrom", [])):
            holders.setdefault("service-public-keys", set()).add(name)

    workers = {worker_name(q) for q in WORKER_QUEUES}
    assert holders == {"service-key-api-gateway": {"api-gateway"}, "service-key-saga-workers": workers,
                       "service-public-keys": {"user-service", "order-service", "payment-service",
                                               "notification-service"}}


def test_k8s_app_containers_run_as_non_root_with_resource_limits() -> None:
    for name, box in app_containers():
        assert box["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert {"cpu", "memory"} <= set(box["resources"]["limits"]), name
    for name in {workload for workload, _ in app_containers()}:
        workload = {**k8s_by_kind("Deployment"), **k8s_by_kind("Job")}[name]
        assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True, name


def test_k8s_renders_with_kustomize() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")

    folder = Path(tempfile.mkdtemp()) / "k8s"  # the generators' env files, written as an operator would
    shutil.copytree(K8S_DIR, folder)
    from devstack.k8s_secrets import write_all

    write_all(folder)
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    rendered = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    namespaced = [doc for doc in rendered if doc["kind"] != "Namespace"]
    assert {doc["metadata"]["namespace"] for doc in namespaced} == {"campus-delivery"}
