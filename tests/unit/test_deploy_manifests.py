"""The container deliverables say what the platform needs: docker-compose.yml, k8s/, Dockerfile.

Read as YAML and text only, so no Docker engine or cluster is needed. `docker compose config`
and `kubectl kustomize` run too when their clients are installed, and are skipped otherwise.
"""
from __future__ import annotations

import functools
import glob
import re
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest

from saga_workers.registry import WORKER_QUEUES, node_name, worker_name

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
                data.update(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
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


def worker_deployments() -> dict[str, dict[str, Any]]:
    """Queue -> its worker Deployments (a list, so duplicates show)."""
    by_queue: dict[str, list[str]] = {}
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


# --- compose ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", WEB_APPS)
def test_compose_web_app_runs_gunicorn_on_its_port_with_a_healthz_check(name: str) -> None:
    package, port = WEB_APPS[name]
    service = compose_services()[name]

    assert service["command"] == gunicorn_command(package, port)
    path = "/readyz" if name == "api-gateway" else "/healthz"  # the gateway is ready when its dependencies are
    assert f"http://127.0.0.1:{port}{path}" in " ".join(service["healthcheck"]["test"])
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_compose_publishes_only_gateway_and_flower_on_loopback() -> None:
    published = {name: svc["ports"] for name, svc in compose_services().items() if svc.get("ports")}

    assert published == {"api-gateway": ["127.0.0.1:3100:3100"], "flower": ["127.0.0.1:5555:5555"],
                         "prometheus": ["127.0.0.1:9090:9090"], "grafana": ["127.0.0.1:3000:3000"]}


def test_compose_every_queue_has_exactly_one_worker_that_is_health_checked() -> None:
    by_queue: dict[str, list[str]] = {}
    for name, service in app_services().items():
        command = service["command"]
        if command[:4] == ["celery", "-A", "saga_workers", "worker"]:
            by_queue.setdefault(flag(command, "-Q"), []).append(name)
            node = NODE_NAMES[flag(command, "-Q")]
            assert flag(command, "-n") == f"{node}@%h", name
            assert flag(command, "--prefetch-multiplier") == "1", name
            assert flag(command, "-O") == "fair", name
            assert f"-d {node}@$$HOSTNAME" in " ".join(service["healthcheck"]["test"]), name

    assert {queue: len(names) for queue, names in by_queue.items()} == {queue: 1 for queue in WORKER_QUEUES}


def test_compose_runs_one_beat_one_flower_and_a_one_shot_migrate() -> None:
    commands = {name: svc["command"] for name, svc in app_services().items()}

    beats = [name for name, command in commands.items() if command[3:4] == ["beat"]]
    assert beats == ["beat"]
    assert commands["flower"][:4] == ["celery", "-A", "saga_workers", "flower"] and "--port=5555" in commands["flower"]
    assert "healthcheck" in compose_services()["flower"]
    assert commands["migrate"] == ["python", "-m", "devstack.migrate"]
    assert compose_services()["migrate"]["restart"] == "no"


def test_flower_requires_basic_auth_from_a_secret_never_a_literal() -> None:
    compose_flower = compose_services()["flower"]["environment"]["FLOWER_BASIC_AUTH"]
    k8s_flower = {var["name"]: var for var in main_container(k8s_by_kind("Deployment")["flower"])["env"]}

    assert compose_flower.startswith("${FLOWER_BASIC_AUTH:?"), "compose refuses to start an open Flower"
    assert k8s_flower["FLOWER_BASIC_AUTH"]["valueFrom"]["secretKeyRef"] == {"name": "campus-secrets",
                                                                           "key": "FLOWER_BASIC_AUTH"}
    assert "FLOWER_BASIC_AUTH" in k8s_by_kind("Secret")["campus-secrets"]["stringData"]


def test_compose_datastores_are_persistent_and_health_checked() -> None:
    services = compose_services()
    postgres, redis = services["postgres"], services["redis"]

    assert postgres["image"] == "postgres:15" and "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert redis["image"] == "redis:7" and "--appendonly" in redis["command"]
    assert flag(redis["command"], "--appendonly") == "yes"
    assert "healthcheck" in redis
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_compose_app_containers_only_set_settings_that_config_reads() -> None:
    known = config_env_names()
    used = {var for svc in app_services().values() for var in svc.get("environment", {})}
    yaml_lines = [line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", "\n".join(yaml_lines)))

    assert "DATABASE_URL" in known  # the parse found the settings
    assert used - known == set()
    assert interpolated - known == set()


def test_compose_keeps_all_but_the_gateway_and_flower_off_the_public_network_and_splits_the_keys() -> None:
    services, networks = compose_services(), compose()["networks"]
    public = {name for name, spec in networks.items() if not (spec or {}).get("internal")}
    mounts = {name: {v.split(":")[0] for v in svc.get("volumes", [])} for name, svc in services.items()}
    workers = {name for name, svc in app_services().items() if svc["command"][3:4] == ["worker"]}

    on_public = {name for name, svc in app_services().items() if set(svc.get("networks", [])) & public}
    assert on_public == {"api-gateway", "flower"}  # of the project's containers (Prometheus, Grafana: theirs)
    assert all("broker" not in services[name]["networks"] for name in WEB_APPS if name != "api-gateway")
    assert services["service-keys"]["network_mode"] == "none"
    assert {n for n, m in mounts.items() if "service-key-api-gateway" in m} == {"api-gateway", "service-keys"}
    assert {n for n, m in mounts.items() if "service-key-saga-workers" in m} == workers | {"service-keys"}


def test_compose_passes_docker_compose_config() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker client with its compose plugin is not installed")

    result = subprocess.run([docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
                            cwd=ROOT, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


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


def test_compose_starts_flower_after_the_workers() -> None:
    after = compose_services()["flower"]["depends_on"]
    assert {worker_name(q) for q in WORKER_QUEUES} <= set(after)


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


# --- image -----------------------------------------------------------------------------------

def setuptools_config() -> dict[str, Any]:
    """pyproject.toml's [tool.setuptools] table (which packages and data files the wheel holds)."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def distribution_packages(setup: dict[str, Any]) -> list[str]:
    """The top-level packages pyproject.toml installs (``include = ["campus_common*"]`` -> campus_common)."""
    return [p.strip().rstrip("*") for p in setup["packages"]["find"]["include"] if p.strip()]


def test_image_ships_every_migration_file() -> None:
    """The image runs the installed copy, so a .sql file left out of the wheel is never applied."""
    setup = setuptools_config()
    package_data = setup.get("package-data", {})
    missing = []
    for package in distribution_packages(setup):
        for sql in sorted((ROOT / package).rglob("*.sql")):
            package_dir = next(d for d in sql.parents if (d / "__init__.py").exists())
            dotted = ".".join(package_dir.relative_to(ROOT).parts)
            patterns = [p.strip() for key in ("*", dotted) for p in package_data.get(key, []) if p.strip()]
            shipped = {Path(f) for p in patterns for f in glob.glob(str(package_dir / p), recursive=True)}
            if sql not in shipped:
                missing.append(str(sql.relative_to(ROOT)))

    assert missing == [], "pyproject.toml [tool.setuptools.package-data] leaves these out of the installed package"


def test_image_installs_every_package_of_the_distribution_as_non_root() -> None:
    packages = distribution_packages(setuptools_config())
    dockerfile = (ROOT / "Dockerfile").read_text()
    dockerignore = (ROOT / ".dockerignore").read_text().split()

    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    for package in packages:
        assert re.search(rf"^COPY {package} ", dockerfile, re.M), f"Dockerfile does not copy {package}"
        assert f"!{package}" in dockerignore, f".dockerignore keeps {package} out of the build context"
    assert "[test]" not in dockerfile  # no dev dependencies in the image
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
