"""Settings from the environment, each with a local default; read in one place."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

N = TypeVar("N", int, float)


def env_str(name: str, default: str) -> str:
    """Return the environment variable ``name`` or ``default`` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_int(name: str, default: int) -> int:
    """Return an integer setting; a malformed value fails loudly at start-up."""
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    """Return a float setting (durations in seconds)."""
    return _env_number(name, default, float, "a number")


def _env_number(name: str, default: N, parse: Callable[[str], N], what: str) -> N:
    raw = env_str(name, str(default))
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    """Return an on/off setting: 1/true/yes/on or 0/false/no/off; anything else fails loudly."""
    raw = env_str(name, "1" if default else "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be on or off (1/0, true/false), got {raw!r}")


def _url(name: str, port_var: str, default_port: int) -> str:
    port = env_int(port_var, default_port)
    return env_str(name, f"http://127.0.0.1:{port}")


@dataclass(frozen=True)
class Settings:
    """Every knob of the platform; see the README's configuration table."""

    # Without a URL, the port variables say where (as devstack builds them), never another stack's default.
    database_url: str = field(default_factory=lambda: env_str(
        "DATABASE_URL", f"postgresql+psycopg2://campus:campus@127.0.0.1:{env_int('PG_PORT', 5432)}/campus"))
    redis_url: str = field(default_factory=lambda: env_str(
        "REDIS_URL", f"redis://127.0.0.1:{env_int('REDIS_PORT', 6379)}/0"))
    user_service_url: str = field(default_factory=lambda: _url("USER_SERVICE_URL", "USER_SERVICE_PORT", 3001))
    order_service_url: str = field(default_factory=lambda: _url("ORDER_SERVICE_URL", "ORDER_SERVICE_PORT", 3002))
    payment_service_url: str = field(default_factory=lambda: _url(
        "PAYMENT_SERVICE_URL", "PAYMENT_SERVICE_PORT", 3003))
    notification_service_url: str = field(default_factory=lambda: _url(
        "NOTIFICATION_SERVICE_URL", "NOTIFICATION_SERVICE_PORT", 3006))
    # No default: the gateway refuses to start without a strong secret unless dev_mode is on.
    gateway_jwt_secret: str = field(default_factory=lambda: env_str("GATEWAY_JWT_SECRET", ""))
    dev_mode: bool = field(default_factory=lambda: env_str("CAMPUS_DEV_MODE", "0") == "1")
    gateway_token_max_ttl_seconds: int = field(default_factory=lambda: env_int("GATEWAY_TOKEN_MAX_TTL_SECONDS", 86400))
    max_content_length: int = field(default_factory=lambda: env_int("MAX_CONTENT_LENGTH", 64 * 1024))
    rate_limit_enabled: bool = field(default_factory=lambda: env_str("RATE_LIMIT_ENABLED", "1") != "0")
    rate_limit_user_writes: str = field(default_factory=lambda: env_str("RATE_LIMIT_USER_WRITES",
                                                                        "5 per second;30 per minute"))
    rate_limit_auth_failures: str = field(default_factory=lambda: env_str("RATE_LIMIT_AUTH_FAILURES", "20 per minute"))
    delivery_fee: Decimal = field(default_factory=lambda: Decimal(env_str("DELIVERY_FEE", "3.99")))
    participant_timeout_seconds: float = field(default_factory=lambda: env_float("PARTICIPANT_TIMEOUT_SECONDS", 5.0))
    order_accept_timeout_seconds: int = field(default_factory=lambda: env_int("ORDER_ACCEPT_TIMEOUT_SECONDS", 1800))
    saga_step_retry_limit: int = field(default_factory=lambda: env_int("SAGA_STEP_RETRY_LIMIT", 5))
    saga_retriable_step_retry_limit: int = field(default_factory=lambda: env_int(
        "SAGA_RETRIABLE_STEP_RETRY_LIMIT", 20))
    saga_compensation_retry_limit: int = field(default_factory=lambda: env_int("SAGA_COMPENSATION_RETRY_LIMIT", 10))
    saga_retry_backoff_base_seconds: float = field(default_factory=lambda: env_float(
        "SAGA_RETRY_BACKOFF_BASE_SECONDS", 0.5))
    saga_retry_backoff_max_seconds: float = field(default_factory=lambda: env_float(
        "SAGA_RETRY_BACKOFF_MAX_SECONDS", 30.0))
    accept_timeout_scan_seconds: float = field(default_factory=lambda: env_float("ACCEPT_TIMEOUT_SCAN_SECONDS", 1.0))
    saga_sweep_seconds: float = field(default_factory=lambda: env_float("SAGA_SWEEP_SECONDS", 10.0))
    saga_stall_seconds: int = field(default_factory=lambda: env_int("SAGA_STALL_SECONDS", 120))
    broker_visibility_timeout_seconds: int = field(default_factory=lambda: env_int(
        "BROKER_VISIBILITY_TIMEOUT_SECONDS", 300))
    log_level: str = field(default_factory=lambda: env_str("LOG_LEVEL", "INFO"))
    # Retention (see the README's "History and retention").
    saga_retention_days: float = field(default_factory=lambda: env_float("SAGA_RETENTION_DAYS", 30.0))
    saga_retention_batch: int = field(default_factory=lambda: env_int("SAGA_RETENTION_BATCH", 1000))
    saga_retention_max_batches: int = field(default_factory=lambda: env_int("SAGA_RETENTION_MAX_BATCHES", 20))
    saga_retention_scan_seconds: float = field(default_factory=lambda: env_float(
        "SAGA_RETENTION_SCAN_SECONDS", 600.0))
    idempotency_key_retention_days: float = field(default_factory=lambda: env_float(
        "IDEMPOTENCY_KEY_RETENTION_DAYS", 90.0))
    idempotency_purge_interval_seconds: float = field(default_factory=lambda: env_float(
        "IDEMPOTENCY_PURGE_INTERVAL_SECONDS", 600.0))
    # Task events feed Flower; they cost worker CPU per step (issue 12), so they can be turned off.
    celery_task_events: bool = field(default_factory=lambda: env_bool("CELERY_TASK_EVENTS", True))
    # The "task-sent" event is published by whoever publishes a task: the worker, for every next
    # step of a chain. Flower shows tasks from "received" on without it (measured: README Benchmarks).
    celery_task_sent_events: bool = field(default_factory=lambda: env_bool("CELERY_TASK_SENT_EVENTS", False))
    # A worker serves its own saga metrics on this port (k8s, one scrape per pod); 0: it does not.
    metrics_port: int = field(default_factory=lambda: env_int("METRICS_PORT", 0))


def load_settings() -> Settings:
    """Read the settings from the environment now (not cached: tests change the environment)."""
    return Settings()
