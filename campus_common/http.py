"""The one HTTP client for calls between services.

Every call carries an ``Idempotency-Key`` when it changes state, and every failure is
classified: a ``BusinessRefusal`` (4xx: the participant said no; retrying will not help) or an
``InfrastructureFault`` (connection refused, timeout, 5xx: retrying may help). A timeout is an
unknown outcome: the participant may have acted.
"""
from __future__ import annotations

import os
import threading
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from campus_common import jsonutil, logs, service_auth

_local = threading.local()


class BusinessRefusal(Exception):
    """The participant answered 4xx: a final refusal for this request."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class InfrastructureFault(Exception):
    """The call did not get a business answer: connection error, timeout or 5xx."""

    def __init__(self, message: str, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


# What requests reads from the environment on every call when ``trust_env`` is on: proxies and
# netrc (and the CA bundle, which a session can be given once). Without proxies or netrc the
# session does not look: the per-call proxy-bypass checks were 3% of a saga step's CPU.
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _honours_environment() -> bool:
    """True when a proxy variable or a netrc file exists for requests to honour on every call."""
    if any(name.lower() in _PROXY_VARIABLES for name in os.environ) or os.environ.get("NETRC"):
        return True
    return any(os.path.exists(os.path.expanduser(f"~/{name}")) for name in (".netrc", "_netrc"))


def _session() -> requests.Session:
    # One pooled session per thread: keep-alive without sharing a Session across threads.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = _honours_environment()
        if not session.trust_env:  # the CA bundle requests would have read per call (same precedence)
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


def call(method: str, url: str, *, json: Any = None, idempotency_key: str | None = None,
         timeout: float = 5.0, headers: dict[str, str] | None = None, caller: str | None = None,
         audience: str | None = None) -> Any:
    """Send one request and return its decoded JSON body, or raise a classified error.

    With ``caller`` and ``audience`` it presents ``caller``'s service credential for that participant.
    """
    sent_headers = {"Accept": "application/json", **(headers or {})}
    if caller and audience:
        sent_headers["Authorization"] = f"Bearer {service_auth.token_for(caller, audience)}"
    body = None
    if json is not None:
        body = jsonutil.dumps(json)
        sent_headers["Content-Type"] = "application/json"
    if idempotency_key:
        sent_headers["Idempotency-Key"] = idempotency_key
    if (request_id := logs.current_request_id()) and logs.REQUEST_ID_HEADER not in sent_headers:
        sent_headers[logs.REQUEST_ID_HEADER] = request_id  # one id follows an order through every service
    try:
        response = _session().request(method, url, data=body, headers=sent_headers, timeout=timeout)
    except requests.ConnectTimeout as exc:  # the connection was never made: the request was not sent
        raise InfrastructureFault(f"{method} {url} could not connect within {timeout}s") from exc
    except requests.Timeout as exc:
        raise InfrastructureFault(f"{method} {url} timed out after {timeout}s", outcome_unknown=True) from exc
    except requests.ConnectionError as exc:
        # Refused before the request left: it did not happen. Cut after it was sent (the participant
        # died mid-request, or its reply was lost): it may have, like a timeout.
        raise InfrastructureFault(f"{method} {url} failed: {exc.__class__.__name__}: {exc}",
                                  outcome_unknown=not _never_sent(exc)) from exc
    except requests.RequestException as exc:
        raise InfrastructureFault(f"{method} {url} failed: {exc.__class__.__name__}: {exc}",
                                  outcome_unknown=True) from exc
    return _decode(method, url, response)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection itself failed (refused, unreachable): the participant never saw the request."""
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


def _decode(method: str, url: str, response: requests.Response) -> Any:
    try:
        payload = jsonutil.loads(response.content) if response.content else None
    except ValueError:
        payload = None
    if response.status_code >= 500:
        # A 5xx may come after the participant committed: treat the outcome as unknown.
        raise InfrastructureFault(f"{method} {url} answered {response.status_code}", outcome_unknown=True)
    if response.status_code >= 400:
        error = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        raise BusinessRefusal(response.status_code, error.get("code", f"http_{response.status_code}"),
                              error.get("message", response.reason or "refused"), error.get("details"))
    return payload
