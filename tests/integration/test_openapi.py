"""The gateway's OpenAPI 3.1 document: valid, complete, and made from the models that validate requests."""
from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from openapi_spec_validator import validate

from tests.integration.gateway_fixtures import ORDER, Gateway, User, eager_sagas, gateway  # noqa: F401

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _document(gateway: Gateway) -> dict[str, Any]:
    response = gateway.client.get("/openapi.json")  # anyone may read it: no token
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(gateway: Gateway) -> None:
    document = _document(gateway)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_of_the_gateway_is_in_it(gateway: Gateway) -> None:
    paths = _document(gateway)["paths"]
    app = gateway.client.application
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in (rule.methods or set()) & METHODS}
    documented = {(path, method) for path, operations in paths.items() for method in operations}
    assert routes - documented == set()
    assert {("/api/sagas/{saga_id}/cancel", "post"), ("/api/orders", "post"), ("/console/", "get")} <= routes


def test_request_schemas_are_the_ones_that_validate(gateway: Gateway) -> None:
    document = _document(gateway)
    place = document["paths"]["/api/orders"]["post"]
    assert place["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/NewOrder")
    assert "Idempotency-Key" in [p["name"] for p in place["parameters"] if p["in"] == "header"]
    item = document["components"]["schemas"]["OrderItem"]
    assert item["required"] == ["name", "price", "quantity"]
    assert item["properties"]["quantity"]["maximum"] == 1000
    assert "422" in place["responses"] and place["responses"]["422"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/ErrorBody")

    # What the document says is required is what the gateway refuses without.
    customer = User(str(uuid4()), "customer")
    response = gateway.client.post("/api/orders", json={}, headers=customer.auth)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == set(document["components"]["schemas"]["NewOrder"][
        "required"])


def test_bad_input_keeps_the_error_format(gateway: Gateway) -> None:
    customer = User(str(uuid4()), "customer")
    bad_item = {**ORDER, "items": [{"name": "Tea", "price": "2.001", "quantity": "2"}]}
    response = gateway.client.post("/api/orders", json=bad_item, headers=customer.auth)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"items[0].price": "must have at most two decimal places",
                                                       "items[0].quantity": "must be an integer"}
    as_text = gateway.client.post("/api/orders", data=b'{"items": []}', content_type="text/plain",
                                  headers=customer.auth)
    assert as_text.status_code == 415 and as_text.get_json()["error"]["code"] == "unsupported_media_type"
    long_key = gateway.client.post("/api/orders", json=ORDER, headers={**customer.auth, "Idempotency-Key": "k" * 256})
    assert long_key.status_code == 400 and long_key.get_json()["error"]["code"] == "invalid_idempotency_key"
    for query in ("type=nope", "limit=0", "limit=abc"):
        response = gateway.client.get(f"/api/sagas?{query}", headers=gateway.admin.auth)
        assert response.status_code == 422 and set(response.get_json()["error"]) == {"code", "message", "details"}


def test_the_docs_page_is_self_contained(gateway: Gateway) -> None:
    response = gateway.client.get("/docs")
    page = response.data.decode()
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "/api/sagas/{saga_id}/cancel" in page and "NewOrder" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing is fetched from another host"
    assert "<script" not in page


def test_the_saga_list_filters_by_order_and_time_as_documented(gateway: Gateway) -> None:
    parameters = _document(gateway)["paths"]["/api/sagas"]["get"]["parameters"]
    assert {"type", "status", "order_id", "from", "to", "limit", "cursor"} == {p["name"] for p in parameters}
    started = gateway.place_order(gateway.create_user("customer")).get_json()
    gateway.place_order(gateway.create_user("customer"))

    def ids(query: str) -> list[str]:
        response = gateway.client.get(f"/api/sagas?{query}", headers=gateway.admin.auth)
        assert response.status_code == 200, response.get_json()
        return [saga["saga_id"] for saga in response.get_json()["sagas"]]

    assert ids(f"order_id={started['order_id']}") == [started["saga_id"]]
    assert len(ids("from=2000-01-01T00:00&order_id=")) == 2
    assert ids("to=2000-01-01T00:00:00%2B00:00") == []
    bad = gateway.client.get("/api/sagas?order_id=nope&from=yesterday", headers=gateway.admin.auth)
    assert bad.status_code == 422 and set(bad.get_json()["error"]["details"]) == {"order_id", "from"}
    assert bad.get_json()["error"]["details"]["order_id"] == "must be a UUID"
