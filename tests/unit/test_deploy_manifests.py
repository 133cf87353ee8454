"""The container deliverables say what the platform needs: docker-compose.yml and the Dockerfile.

Read as YAML and text only, so no Docker engine is needed. `docker compose config` runs too when
its client is installed, and is skipped otherwise. k8s/: test_k8s_manifests.py.
"""
from __future__ import annotations

import glob
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from saga_workers.registry import WORKER_QUEUES, worker_name
from tests.unit.deploy_files import (COMPOSE_FILE, NODE_NAMES, ROOT, WEB_APPS, app_services, compose,
                                     compose_services, config_env_names, flag, gunicorn_command, k8s_by_kind,
                                     main_container)


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
            queue = flag(command, "-Q")
            assert queue is not None, name
            by_queue.setdefault(queue, []).append(name)
            node = NODE_NAMES[queue]
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


def test_compose_starts_flower_after_the_workers() -> None:
    after = compose_services()["flower"]["depends_on"]
    assert {worker_name(q) for q in WORKER_QUEUES} <= set(after)


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
