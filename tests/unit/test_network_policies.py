"""k8s NetworkPolicies allow exactly the calls the architecture draws: evaluated from the manifests.

A connection from workload A to port P of workload B is allowed when a policy selecting A allows it
out (egress) and a policy selecting B allows it in (ingress), the way a NetworkPolicy CNI decides it.
"""
from __future__ import annotations

from typing import Any

from saga_workers.registry import MAINTENANCE_QUEUE, SAGA_QUEUES, worker_name
from tests.unit.deploy_files import k8s_by_kind, k8s_objects, pod_spec

PARTICIPANTS = {"user-service": 3001, "order-service": 3002, "payment-service": 3003, "notification-service": 3006}
SAGA_WORKERS = tuple(worker_name(queue) for queue in SAGA_QUEUES)
MAINTENANCE_WORKER = worker_name(MAINTENANCE_QUEUE)
DATABASE, BROKER = ("postgres", 5432), ("redis", 6379)


def expected_calls() -> set[tuple[str, str, int]]:
    """README, "Security model / trust": who calls whom."""
    calls = {("api-gateway", name, port) for name, port in PARTICIPANTS.items()}
    calls |= {(worker, name, port) for worker in SAGA_WORKERS for name, port in PARTICIPANTS.items()}
    for client in ("api-gateway", *SAGA_WORKERS, MAINTENANCE_WORKER, *PARTICIPANTS, "beat", "flower",
                   "migrate"):
        calls.add((client, *DATABASE))
    for client in ("api-gateway", *SAGA_WORKERS, MAINTENANCE_WORKER, "beat", "flower"):
        calls.add((client, *BROKER))
    return calls


def workloads() -> dict[str, dict[str, Any]]:
    """Workload name -> its pods' labels and named container ports."""
    found = {}
    for kind in ("Deployment", "StatefulSet", "Job"):
        for name, obj in k8s_by_kind(kind).items():
            spec = pod_spec(obj)
            ports = {p["containerPort"]: p.get("name") for box in spec["containers"] for p in box.get("ports", [])}
            found[name] = {"labels": obj["spec"]["template"]["metadata"]["labels"], "ports": ports}
    return found


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector (matchLabels, matchExpressions with In) against pod labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def port_matches(rule: dict[str, Any], port: int, name: str | None) -> bool:
    if "ports" not in rule:
        return True
    return any(p.get("port") in (port, name) for p in rule["ports"])


def peer_matches(rule: dict[str, Any], direction: str, labels: dict[str, str]) -> bool:
    peers = rule.get(direction)
    if peers is None:
        return True  # no from/to: every peer
    # A peer with a namespaceSelector reaches other namespaces (DNS, Prometheus), not our workloads.
    return any("namespaceSelector" not in peer and selects(peer.get("podSelector", {}), labels) for peer in peers)


def allowed(src: dict[str, Any], dst: dict[str, Any], port: int) -> bool:
    policies = [obj["spec"] for obj in k8s_objects() if obj["kind"] == "NetworkPolicy"]
    name = dst["ports"][port]
    out = any("Egress" in p["policyTypes"] and selects(p["podSelector"], src["labels"]) and any(
        peer_matches(rule, "to", dst["labels"]) and port_matches(rule, port, name) for rule in p.get("egress", []))
        for p in policies)
    into = any("Ingress" in p["policyTypes"] and selects(p["podSelector"], dst["labels"]) and any(
        peer_matches(rule, "from", src["labels"]) and port_matches(rule, port, name) for rule in p.get("ingress", []))
        for p in policies)
    return out and into


def test_everything_is_denied_unless_a_policy_allows_it() -> None:
    specs = [obj["spec"] for obj in k8s_objects() if obj["kind"] == "NetworkPolicy"]
    assert {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} in specs


def test_exactly_the_drawn_calls_are_allowed_between_the_workloads() -> None:
    pods = workloads()
    possible = {(src, dst, port) for src in pods for dst in pods for port in pods[dst]["ports"] if src != dst}
    allowed_calls = {(src, dst, port) for src, dst, port in possible if allowed(pods[src], pods[dst], port)}

    assert allowed_calls == expected_calls()


def test_every_pod_may_resolve_names_and_only_the_gateway_and_flower_take_outside_traffic() -> None:
    policies = [obj["spec"] for obj in k8s_objects() if obj["kind"] == "NetworkPolicy"]
    dns = [p for p in policies if p["podSelector"] == {} and p["policyTypes"] == ["Egress"]]
    assert dns and any(port["port"] == 53 for rule in dns[0]["egress"] for port in rule["ports"])
    open_to_all = {name for name, pod in workloads().items() for p in policies
                   if "Ingress" in p["policyTypes"] and selects(p["podSelector"], pod["labels"])
                   for rule in p.get("ingress", []) if "from" not in rule}
    assert open_to_all == {"api-gateway", "flower"}
