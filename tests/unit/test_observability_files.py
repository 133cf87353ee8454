"""The monitoring deliverables fit the code: alert rules and the dashboard name metrics that exist.

Read as files only (no Prometheus or Grafana needed); ``promtool check rules`` runs too when
installed. Compose and k8s wiring is checked with the manifest test's helpers.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.unit.deploy_files import (ROOT, WORKER_QUEUES, compose_services, k8s_by_kind, main_container,
                                     worker_deployments)

yaml = pytest.importorskip("yaml")

OPS = ROOT / "ops"
RULES = OPS / "prometheus" / "alerts.yml"
DASHBOARD = OPS / "grafana" / "dashboards" / "sagas.json"
METRIC = re.compile(r"\bcampus_saga_[a-z_]+")


def exposed_names() -> set[str]:
    """Every sample name the gateway's /metrics can show."""
    from prometheus_client import Counter, Histogram

    from saga_workers import metrics

    names = set()
    for metric in (metrics.STARTED, metrics.ENDED, metrics.STEP_SECONDS, metrics.STEP_RETRIES):
        if isinstance(metric, Counter):
            names.add(f"{metric._name}_total")
        elif isinstance(metric, Histogram):
            names |= {f"{metric._name}_{suffix}" for suffix in ("bucket", "count", "sum")}
    gauges = re.findall(r'GaugeMetricFamily\(\s*"(\w+)"', (ROOT / "api_gateway" / "metrics.py").read_text())
    return names | set(gauges)


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]


def test_the_gateway_exposes_every_metric_the_issue_names() -> None:
    names = exposed_names()

    assert {"campus_saga_started_total", "campus_saga_ended_total", "campus_saga_step_duration_seconds_bucket",
            "campus_saga_step_retries_total", "campus_saga_failed", "campus_saga_stalled",
            "campus_saga_queue_depth"} <= names


def test_alert_rules_parse_and_cover_failed_stalled_and_a_growing_queue() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}

    assert {"SagaFailed", "SagasStalled", "SagaQueueGrowing"} <= set(by_name)
    for name, rule in by_name.items():
        assert rule["expr"] and rule["for"] and rule["labels"]["severity"] in ("page", "warning"), name
        assert rule["annotations"]["summary"], name
    assert "campus_saga_failed" in by_name["SagaFailed"]["expr"]
    assert "campus_saga_stalled" in by_name["SagasStalled"]["expr"]
    assert "deriv(campus_saga_queue_depth" in by_name["SagaQueueGrowing"]["expr"]


def test_alert_rules_and_dashboard_name_only_metrics_that_exist() -> None:
    names = exposed_names()
    used = {name for text in [rule["expr"] for rule in rules()] + dashboard_exprs() for name in METRIC.findall(text)}

    assert used and used - names == set()


def test_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")

    result = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_queries_the_provisioned_data_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    [source] = yaml.safe_load((OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"]

    assert dashboard["uid"] and dashboard["panels"]
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {source["uid"]}
    assert source["url"] == "http://prometheus:9090"


def test_compose_runs_prometheus_on_the_rules_and_grafana_on_the_dashboard() -> None:
    services = compose_services()
    prometheus, grafana = services["prometheus"], services["grafana"]
    config = yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())

    assert "./ops/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    [job] = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["api-gateway:3100"] and job["metrics_path"] == "/metrics"
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in grafana["volumes"]}
    assert mounts["./ops/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./ops/grafana/dashboards"] == "/var/lib/grafana/dashboards"
    for source in ("./ops/prometheus", "./ops/grafana/provisioning", "./ops/grafana/dashboards"):
        assert (ROOT / source).is_dir(), source
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_compose_gateway_and_workers_share_the_metrics_folder() -> None:
    services = compose_services()
    sharing = {name for name, svc in services.items()
               if "metrics:/metrics" in svc.get("volumes", [])
               and (svc.get("environment") or {}).get("PROMETHEUS_MULTIPROC_DIR") == "/metrics"}
    workers = {name for name, svc in services.items() if svc.get("command", [])[3:4] == ["worker"]}

    assert len(workers) == len(WORKER_QUEUES)
    assert sharing == workers | {"api-gateway"}
    assert "install -d -o 10001 -g 10001 /metrics" in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize("queue", WORKER_QUEUES)
def test_k8s_worker_pods_serve_their_metrics_to_prometheus(queue: str) -> None:
    (name,) = worker_deployments()[queue]
    deployment = k8s_by_kind("Deployment")[name]
    box = main_container(deployment)
    env = {var["name"]: var.get("value") for var in box["env"]}
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]

    assert {"name": "metrics", "containerPort": int(env["METRICS_PORT"])} in box["ports"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == env["METRICS_PORT"]
    assert k8s_by_kind("ConfigMap")["campus-config"]["data"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
