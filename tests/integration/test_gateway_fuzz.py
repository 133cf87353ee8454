"""Property-based fuzzing of the gateway (Hypothesis) over real participants and Postgres: whatever the
request, the answer is never a 5xx, and every error answer is the one JSON error format.

Bounded and repeatable: ~200 examples in all, derandomized (the same examples every run), no deadline
(sagas run eagerly inside some calls), and no example database written to the work tree.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.gateway_fixtures import ORDER, Gateway, User, bearer, eager_sagas, gateway  # noqa: F401

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
ROUTES = [("POST", "/api/orders"), ("GET", "/api/orders"), ("GET", "/api/orders/{id}"),
          ("POST", "/api/orders/{id}/accept"), ("PUT", "/api/orders/{id}/status"),
          ("POST", "/api/orders/{id}/cancel"), ("POST", "/api/orders/{id}/complete"), ("GET", "/api/sagas"),
          ("GET", "/api/sagas/{id}"), ("POST", "/api/sagas/{id}/retry"), ("POST", "/api/sagas/{id}/cancel"),
          ("POST", "/api/users"), ("GET", "/healthz"), ("DELETE", "/api/orders"), ("GET", "/api/nothing")]
NASTY = ["\x00", "\ud800", "a\udfff", "\u202e", "' OR 1=1 --", "%00", "../../etc/passwd", "9" * 400, "", " ",
         "NaN", "1e999", "-0", "[" * 50, "{{7*7}}"]

# Short strings over a small alphabet full of trouble (NUL, lone surrogates, quotes, bidi, non-ASCII):
# most strings drawn hold at least one.
ODD_CHARACTERS = ["a", "Z", " ", "\x00", "\ud800", "\udfff", "\u00e9", "\u202e", "'", '"', "\\", "%", "\n"]
odd_text = st.text(alphabet=st.sampled_from(ODD_CHARACTERS), max_size=12)
nasty_text = st.one_of(odd_text, st.sampled_from(NASTY), st.text(max_size=30))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4),
    max_leaves=12)
FIELDS = ("name", "price", "quantity", "store_location", "delivery_location", "items", "extra")


def _with_one_fault(fault: tuple[str, Any]) -> dict[str, Any]:
    """A valid order with one field replaced by an odd value: it gets as far as that value lets it."""
    field, value = fault
    order = json.loads(json.dumps(ORDER))
    if field in ("name", "price", "quantity"):
        order["items"][0][field] = value
    elif field == "extra":
        order["items"][0][value if isinstance(value, str) else "x"] = value
    else:
        order[field] = value
    return order


odd_values = st.one_of(odd_text, odd_text, st.sampled_from(NASTY), json_values)
order_bodies = st.tuples(st.sampled_from(FIELDS), odd_values).map(_with_one_fault)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e) | st.sampled_from("\x00\t"),
                      max_size=300)
path_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@dataclass
class World:
    """Real ids the fuzzer can aim at, and who may act on them."""

    gateway: Gateway
    customer: User
    runner: User
    order_id: str
    saga_id: str


@pytest.fixture()
def world(gateway: Gateway) -> World:
    customer, runner = gateway.create_user("customer"), gateway.create_user("runner")
    placed = gateway.place_order(customer).get_json()
    return World(gateway, customer, runner, placed["order_id"], placed["saga_id"])


def _auth(world: World) -> st.SearchStrategy[dict[str, str]]:
    return st.sampled_from([
        {}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic eDp5"},
        world.customer.auth, world.runner.auth, world.gateway.admin.auth, bearer(str(uuid4()), "customer"),
        bearer(str(uuid4()), "runner", ttl=-10)])


def _assert_well_formed(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if response.status_code >= 400:
        assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
        error = response.get_json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str)


def test_every_api_route_of_the_gateway_is_fuzzed(gateway: Gateway) -> None:
    """A route added to the gateway is fuzzed once ROUTES names it: this fails until it does."""
    routes = {(method, re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule))
              for rule in gateway.client.application.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    assert routes - set(ROUTES) == set()


@FUZZ
@given(data=st.data())
def test_any_request_to_any_endpoint_is_answered_well(world: World, data: st.DataObject) -> None:
    method, template = data.draw(st.sampled_from(ROUTES), label="route")
    target = data.draw(st.sampled_from([world.order_id, world.saga_id, str(uuid4())]) | path_text, label="id")
    path = template.replace("{id}", quote(target, safe=""))
    query = data.draw(st.dictionaries(st.sampled_from(["status", "limit", "cursor", "type", "order_id", "x"]),
                                      nasty_text.filter(lambda t: "\ud800" not in t and "\udfff" not in t),
                                      max_size=3), label="query")
    headers = {**data.draw(_auth(world), label="auth")}
    if data.draw(st.booleans(), label="with key"):
        headers["Idempotency-Key"] = data.draw(header_text, label="key")
    body = data.draw(st.one_of(st.none(), json_values.map(json.dumps), order_bodies.map(json.dumps),
                               st.binary(max_size=64)), label="body")
    response = world.gateway.client.open(path, method=method, query_string=query, headers=headers, data=body,
                                         content_type="application/json" if body is not None else None)
    _assert_well_formed(response)


@FUZZ
@given(body=order_bodies, key=st.none() | header_text)
def test_any_order_a_customer_sends_is_answered_well(world: World, body: dict, key: str | None) -> None:
    headers = {**world.customer.auth, **({"Idempotency-Key": key} if key is not None else {})}
    response = world.gateway.client.post("/api/orders", data=json.dumps(body), headers=headers,
                                         content_type="application/json")
    _assert_well_formed(response)
    if response.status_code in (200, 202):  # a valid order ran its saga: its view is well formed too
        saga = world.gateway.client.get(response.get_json()["status_url"], headers=world.customer.auth)
        _assert_well_formed(saga)
    assert world.gateway.client.get("/api/orders", headers=world.runner.auth).status_code == 200
