"""Service credentials without I/O: minting and its cache, checking, rotation, refusing to start without keys."""
from __future__ import annotations

import pytest

from campus_common import service_auth
from campus_common.service_auth import (API_GATEWAY, SAGA_WORKERS, InvalidServiceToken, ServiceAuthNotConfigured,
                                        generate_private_key, private_key_variable, public_key_of,
                                        public_keys_variable, token_for, verify)
from devstack.service_keys import env_for

NO_DB = {"DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none"}  # engines connect lazily


@pytest.fixture()
def keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fresh key pairs for both callers in the environment, development mode off."""
    monkeypatch.delenv("CAMPUS_DEV_MODE", raising=False)
    values = {}
    for caller in service_auth.CALLERS:
        private = generate_private_key()
        values[caller] = private
        monkeypatch.setenv(private_key_variable(caller), private)
        monkeypatch.setenv(public_keys_variable(caller), public_key_of(private))
    return values


def test_a_token_names_its_caller_and_only_opens_its_audience(keys) -> None:
    token = token_for(SAGA_WORKERS, "payment_service")
    assert verify(token, "payment_service") == SAGA_WORKERS
    with pytest.raises(InvalidServiceToken):
        verify(token, "order_service")


def test_tokens_are_cached_and_minted_again_before_they_expire(keys, monkeypatch) -> None:
    now = [1_900_000_000.0]
    monkeypatch.setattr(service_auth.time, "time", lambda: now[0])
    first = token_for(API_GATEWAY, "order_service")
    now[0] += service_auth.TOKEN_TTL_SECONDS - service_auth.RENEW_BEFORE_SECONDS - 1
    assert token_for(API_GATEWAY, "order_service") == first
    now[0] += 2
    assert token_for(API_GATEWAY, "order_service") != first


def test_rotation_accepts_every_listed_key_and_drops_a_removed_one(keys, monkeypatch) -> None:
    old_token = token_for(SAGA_WORKERS, "user_service")
    new_key = generate_private_key()
    monkeypatch.setenv(private_key_variable(SAGA_WORKERS), new_key)
    both = f"{public_key_of(new_key)},{public_key_of(keys[SAGA_WORKERS])}"
    monkeypatch.setenv(public_keys_variable(SAGA_WORKERS), both)
    new_token = token_for(SAGA_WORKERS, "user_service")

    assert new_token != old_token
    assert verify(old_token, "user_service") == verify(new_token, "user_service") == SAGA_WORKERS
    monkeypatch.setenv(public_keys_variable(SAGA_WORKERS), public_key_of(new_key))
    with pytest.raises(InvalidServiceToken):
        verify(old_token, "user_service")


def test_a_token_signed_with_one_callers_key_cannot_claim_to_be_another(keys) -> None:
    import time

    import jwt

    gateway_key = service_auth.load_private_key(keys[API_GATEWAY])
    now = int(time.time())
    claims = {"iss": SAGA_WORKERS, "aud": "payment_service", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, gateway_key, algorithm="EdDSA",
                       headers={"kid": service_auth.key_id(gateway_key.public_key())})
    with pytest.raises(InvalidServiceToken):
        verify(token, "payment_service")


def test_without_keys_nothing_signs_or_checks_unless_in_development_mode(monkeypatch) -> None:
    for caller in service_auth.CALLERS:
        for name in (private_key_variable(caller), public_keys_variable(caller)):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.delenv("CAMPUS_DEV_MODE", raising=False)
    with pytest.raises(ServiceAuthNotConfigured):
        token_for(SAGA_WORKERS, "payment_service")
    with pytest.raises(ServiceAuthNotConfigured):
        service_auth.trusted_keys()

    monkeypatch.setenv("CAMPUS_DEV_MODE", "1")
    assert verify(token_for(SAGA_WORKERS, "payment_service"), "payment_service") == SAGA_WORKERS


def test_keys_can_come_from_files(keys, monkeypatch, tmp_path) -> None:
    path = tmp_path / "workers.key"
    path.write_text(keys[SAGA_WORKERS] + "\n")
    monkeypatch.delenv(private_key_variable(SAGA_WORKERS))
    monkeypatch.setenv(private_key_variable(SAGA_WORKERS) + "_FILE", str(path))
    assert verify(token_for(SAGA_WORKERS, "order_service"), "order_service") == SAGA_WORKERS


@pytest.mark.parametrize("package", ["user_service", "order_service", "payment_service", "notification_service"])
def test_a_participant_refuses_to_start_without_public_keys(monkeypatch, package) -> None:
    import importlib

    monkeypatch.delenv("CAMPUS_DEV_MODE", raising=False)
    for caller in service_auth.CALLERS:
        monkeypatch.delenv(public_keys_variable(caller), raising=False)
    with pytest.raises(ServiceAuthNotConfigured):
        importlib.import_module(package).create_app(NO_DB)


def test_the_gateway_and_the_workers_refuse_to_start_without_their_key(monkeypatch) -> None:
    from api_gateway import create_app
    from saga_workers.celery_app import _refuse_to_start_without_a_service_key

    monkeypatch.delenv("CAMPUS_DEV_MODE", raising=False)
    monkeypatch.delenv(private_key_variable(API_GATEWAY), raising=False)
    monkeypatch.delenv(private_key_variable(SAGA_WORKERS), raising=False)
    with pytest.raises(ServiceAuthNotConfigured):
        create_app({**NO_DB, "GATEWAY_JWT_SECRET": "a-random-test-secret-k9Qx2Lw7Vb4Nz8Rt3Hy6"})
    with pytest.raises(SystemExit):
        _refuse_to_start_without_a_service_key()


def test_each_stack_process_gets_only_its_own_private_key() -> None:
    env = {private_key_variable(SAGA_WORKERS): "w", private_key_variable(API_GATEWAY): "g",
           public_keys_variable(SAGA_WORKERS): "W", public_keys_variable(API_GATEWAY): "G", "OTHER": "x"}
    publics = {public_keys_variable(SAGA_WORKERS), public_keys_variable(API_GATEWAY), "OTHER"}

    assert set(env_for("payment_service", env)) == publics
    assert set(env_for("beat", env)) == publics
    assert set(env_for("api_gateway", env)) == publics | {private_key_variable(API_GATEWAY)}
    assert set(env_for("worker.complete_order_saga", env)) == publics | {private_key_variable(SAGA_WORKERS)}
