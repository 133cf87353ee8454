"""The saga console's pages over the Flask test client: sign-in, roles, CSRF, filters, a saga's timeline."""
from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import pytest

from api_gateway.auth import issue_token
from tests.integration.gateway_fixtures import SECRET, Gateway, bearer, eager_sagas, gateway  # noqa: F401

ORIGIN = {"Origin": "http://localhost"}  # the test client's own origin


def _sign_in(gateway: Gateway) -> str:
    token = issue_token(gateway.admin.user_id, "admin", SECRET)
    response = gateway.client.post("/console/login", data={"token": token, "next": "/console/?status=FAILED"},
                                   headers=ORIGIN)
    assert response.status_code == 302 and response.headers["Location"] == "/console/?status=FAILED"
    return response.headers["Set-Cookie"]


def test_sign_in_keeps_the_token_in_a_strict_http_only_cookie(gateway: Gateway) -> None:
    cookie = _sign_in(gateway)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert gateway.client.get("/console/").status_code == 200  # the cookie now signs the pages in

    gateway.client.post("/console/logout", headers=ORIGIN)
    assert gateway.client.get("/console/").status_code == 401


def test_without_a_token_the_sign_in_page_answers(gateway: Gateway) -> None:
    response = gateway.client.get("/console/?type=create_order")
    assert response.status_code == 401 and b'name="token"' in response.data
    assert b'value="/console/?type=create_order"' in response.data, "it returns to the page asked for"
    bad = gateway.client.post("/console/login", data={"token": "not-a-jwt", "next": "/console/?type=cancel_order"},
                              headers=ORIGIN)
    assert bad.status_code == 401 and "Set-Cookie" not in bad.headers
    assert b'value="/console/?type=cancel_order"' in bad.data, "a second try still returns to that page"


@pytest.mark.parametrize("role", ["customer", "runner"])
def test_non_admins_get_a_403_page(gateway: Gateway, role: str) -> None:
    response = gateway.client.get("/console/", headers=bearer(str(uuid4()), role))
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert b"the console is for admins" in response.data
    token = issue_token(str(uuid4()), role, SECRET)
    signin = gateway.client.post("/console/login", data={"token": token}, headers=ORIGIN)
    assert signin.status_code == 403 and "Set-Cookie" not in signin.headers


def test_the_authorization_header_works_without_a_cookie(gateway: Gateway) -> None:
    saga_id = gateway.place_order(gateway.create_user("customer")).get_json()["saga_id"]
    response = gateway.client.get(f"/console/sagas/{saga_id}", headers=gateway.admin.auth)
    assert response.status_code == 200 and saga_id.encode() in response.data


def test_a_cookie_post_from_another_site_is_refused(gateway: Gateway) -> None:
    saga_id = gateway.place_order(gateway.create_user("customer")).get_json()["saga_id"]
    _sign_in(gateway)
    for headers in ({}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/console/"}):
        response = gateway.client.post(f"/console/sagas/{saga_id}/retry", headers=headers)
        assert response.status_code == 403 and b"cross_site_request" in response.data
    same_site = gateway.client.post(f"/console/sagas/{saga_id}/retry", headers=ORIGIN)
    assert same_site.status_code == 409 and b"only FAILED sagas can be retried" in same_site.data


def _listed(gateway: Gateway, query: str) -> list[str]:
    response = gateway.client.get(f"/console/?{query}", headers=gateway.admin.auth)
    assert response.status_code == 200, response.data
    return re.findall(r'href="/console/sagas/([0-9a-f-]{36})"', response.data.decode())


def test_the_list_filters_by_type_status_order_and_time(gateway: Gateway) -> None:
    ok = gateway.place_order(gateway.create_user("customer")).get_json()
    declined = gateway.place_order(gateway.create_user("customer", card_token="tok_chargeDeclined")).get_json()

    assert _listed(gateway, "") == [declined["saga_id"], ok["saga_id"]]
    assert _listed(gateway, "status=COMPENSATED") == [declined["saga_id"]]
    assert _listed(gateway, f"order_id={ok['order_id']}") == [ok["saga_id"]]
    assert _listed(gateway, "type=accept_order") == []
    assert _listed(gateway, "from=2000-01-01T00:00&to=2000-01-02T00:00") == []
    assert len(_listed(gateway, "from=2000-01-01T00:00")) == 2
    for bad in ("status=DONE", "order_id=nope", "from=yesterday", "cursor=%%%"):
        assert gateway.client.get(f"/console/?{bad}", headers=gateway.admin.auth).status_code == 422


def test_the_list_pages_keep_the_filters(gateway: Gateway) -> None:
    placed = [gateway.place_order(gateway.create_user("customer")).get_json()["saga_id"] for _ in range(3)]
    page = gateway.client.get("/console/?type=create_order&limit=2", headers=gateway.admin.auth).data.decode()
    assert re.findall(r'href="/console/sagas/([0-9a-f-]{36})"', page) == placed[:0:-1]
    link = re.search(r'href="([^"]+)" id="next-page"', page)
    assert link is not None, page
    next_page = link.group(1).replace("&amp;", "&")
    assert "type=create_order" in next_page and "limit=2" in next_page
    assert _listed(gateway, next_page.split("?", 1)[1]) == placed[:1]
    assert 'id="next-page"' not in gateway.client.get(next_page, headers=gateway.admin.auth).data.decode()


def test_the_saga_page_shows_every_attempt_with_its_key_and_the_input_and_outputs(gateway: Gateway) -> None:
    started = gateway.place_order(gateway.create_user("customer")).get_json()
    page = gateway.client.get(f"/console/sagas/{started['saga_id']}", headers=gateway.admin.auth).data.decode()

    assert page.count('class="attempt"') == 6
    assert f"{started['saga_id']}:authorize_payment:action" in page
    assert started["order_id"] in page and "Dorm B, room 214" in page  # the input
    assert "AUTHORIZED" in page  # authorize_payment's output
    assert 'id="retry"' not in page and 'id="cancel"' not in page, "a COMPLETED saga offers neither"
    unknown = gateway.client.get(f"/console/sagas/{uuid4()}", headers=gateway.admin.auth)
    assert unknown.status_code == 404 and unknown.mimetype == "text/html"


def test_cancel_from_the_console(gateway: Gateway, live_participants: Any) -> None:
    from saga_workers.runtime import runner_for
    from tests.integration.saga_helpers import create_user, order_payload

    runner = runner_for("create_order")
    saga_id, _ = runner.store.create(str(uuid4()), order_payload(create_user("customer")), None)
    runner.run_step(saga_id, 0)
    page = gateway.client.get(f"/console/sagas/{saga_id}", headers=gateway.admin.auth).data.decode()
    assert 'id="cancel"' in page

    done = gateway.client.post(f"/console/sagas/{saga_id}/cancel", headers=gateway.admin.auth)
    assert done.status_code == 303
    after = gateway.client.get(done.headers["Location"], headers=gateway.admin.auth).data.decode()
    assert "Cancelled: the saga compensates" in after and 'id="saga-status">COMPENSATED' in after
    again = gateway.client.post(f"/console/sagas/{saga_id}/cancel", headers=gateway.admin.auth)
    assert again.status_code == 409 and b"only a running (STARTED) saga can be cancelled" in again.data
