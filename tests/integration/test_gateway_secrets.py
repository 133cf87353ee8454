"""The gateway's secret and tokens: no start on a weak secret, bounded token lifetimes, the token CLI."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import uuid4

import jwt
import pytest

from api_gateway import create_app
from api_gateway.secret import DEV_SECRET, InsecureSecret
from devstack.procs import free_port
from tests.integration.gateway_fixtures import SECRET, Gateway, eager_sagas, gateway  # noqa: F401

WEAK_SECRETS = {
    "missing": "",
    "short (17 bytes)": "0123456789abcdefg",
    "README's old default": DEV_SECRET,
    "k8s template": "REPLACE-ME-with-a-random-32-byte-hex-string",
    "changeme": "changemechangemechangemechangeme",
    "filler": "a" * 48,
}


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_JWT_SECRET", "CAMPUS_DEV_MODE", "RUN_DIR")}
    return {**env, **extra}


@pytest.mark.parametrize("secret", list(WEAK_SECRETS.values()), ids=list(WEAK_SECRETS))
def test_create_app_refuses_a_weak_secret(database_url: str, monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", secret)
    monkeypatch.delenv("CAMPUS_DEV_MODE", raising=False)
    with pytest.raises(InsecureSecret, match="GATEWAY_JWT_SECRET"):
        create_app({"DATABASE_URL": database_url})


def test_dev_mode_allows_the_default_with_a_warning(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("GATEWAY_JWT_SECRET", raising=False)
    monkeypatch.setenv("CAMPUS_DEV_MODE", "1")
    with caplog.at_level(logging.WARNING):
        app = create_app({"DATABASE_URL": database_url})
    assert app.config["GATEWAY_JWT_SECRET"] == DEV_SECRET
    assert any("CAMPUS_DEV_MODE=1" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("command", [["-m", "api_gateway"], ["-m", "gunicorn", "--workers", "1", "api_gateway:create_app()"]],
                         ids=["python -m api_gateway", "gunicorn"])
def test_the_process_exits_non_zero_naming_the_weak_secret(database_url: str, command: list[str]) -> None:
    port = str(free_port())
    argv = [sys.executable, *command] + (["--bind", f"127.0.0.1:{port}"] if "gunicorn" in command else [])
    env = _cli_env(GATEWAY_JWT_SECRET="too-short", GATEWAY_PORT=port, DATABASE_URL=database_url)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode != 0
    assert "GATEWAY_JWT_SECRET is shorter than 32 bytes" in done.stderr


def _token(**claims: object) -> dict[str, str]:
    now = int(time.time())
    body = {"sub": str(uuid4()), "role": "admin", "iat": now, "exp": now + 600, **claims}
    body = {name: value for name, value in body.items() if value is not None}  # None leaves a claim out
    return {"Authorization": f"Bearer {jwt.encode(body, SECRET, algorithm='HS256')}"}


# Claims made from the time the test runs (the suite may be collected many minutes before).
BAD_CLAIMS = {
    "string exp": lambda now: {"exp": str(now + 600)},
    "string iat": lambda now: {"iat": "now"},
    "no iat": lambda now: {"iat": None},
    "exp in 2286": lambda now: {"exp": 9999999999},  # far above the maximum lifetime
    "future iat": lambda now: {"iat": now + 3600, "exp": now + 4000},  # issued an hour from now
}


@pytest.mark.parametrize("claims", list(BAD_CLAIMS.values()), ids=list(BAD_CLAIMS))
def test_tokens_need_numeric_exp_and_iat_and_a_bounded_lifetime(gateway: Gateway, claims) -> None:
    response = gateway.client.get(f"/api/sagas/{uuid4()}", headers=_token(**claims(int(time.time()))))
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_token_within_the_limits_and_clock_skew_is_accepted(gateway: Gateway) -> None:
    now = int(time.time())
    headers = _token(iat=now + 10, exp=now + 86400)  # the signer's clock 10 s ahead; 24 h minus 10 s of life
    assert gateway.client.get(f"/api/sagas/{uuid4()}", headers=headers).status_code == 404


def test_the_maximum_lifetime_comes_from_the_environment(live_participants, database_url: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_TOKEN_MAX_TTL_SECONDS", "300")
    client = create_app({"DATABASE_URL": database_url, "GATEWAY_JWT_SECRET": SECRET}).test_client()
    now = int(time.time())
    assert client.get(f"/api/sagas/{uuid4()}", headers=_token(iat=now, exp=now + 300)).status_code == 404
    assert client.get(f"/api/sagas/{uuid4()}", headers=_token(iat=now, exp=now + 301)).status_code == 401


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api_gateway.token", "--sub", str(uuid4()), "--role", "admin", *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_token_cli_signs_with_the_stacks_secret_from_stack_env(tmp_path: Path) -> None:
    stack_secret = "stack-secret-" + uuid4().hex + uuid4().hex
    (tmp_path / "stack.env").write_text(f"# devstack\nGATEWAY_JWT_SECRET={stack_secret}\n")
    done = _cli(env=_cli_env(RUN_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), stack_secret, algorithms=["HS256"])
    assert claims["role"] == "admin" and claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("secret", ["", "too-short", DEV_SECRET], ids=["none", "short", "old default"])
def test_token_cli_refuses_to_sign_without_a_proper_secret(tmp_path: Path, secret: str) -> None:
    done = _cli(env=_cli_env(RUN_DIR=str(tmp_path), GATEWAY_JWT_SECRET=secret))
    assert done.returncode == 1 and done.stdout == ""
    assert "GATEWAY_JWT_SECRET" in done.stderr


def test_token_cli_caps_the_lifetime(tmp_path: Path) -> None:
    env = _cli_env(RUN_DIR=str(tmp_path), GATEWAY_JWT_SECRET=SECRET)
    assert _cli("--ttl", "86400", env=env).returncode == 0
    refused = _cli("--ttl", "86401", env=env)
    assert refused.returncode == 2 and "maximum token lifetime" in refused.stderr
    assert _cli("--ttl", "600", env={**env, "GATEWAY_TOKEN_MAX_TTL_SECONDS": "300"}).returncode == 2
