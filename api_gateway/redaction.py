"""What customers and runners may read of an error: a code and a sentence, never internal addresses or
exception text. Admins (operators) get the recorded text as it is."""
from __future__ import annotations

import re
from typing import Any

from api_gateway.auth import Principal

# How the engine records an error: "[compensating ]<step>: <ExceptionType>: <text>" (saga_workers.engine.runner).
_RECORDED = re.compile(r"^(?:compensating )?(?:(?P<step>[a-z_]+): )?(?P<kind>[A-Za-z]+): (?P<text>.*)$", re.S)
_REFUSAL = re.compile(r"^\d{3} (?P<code>[a-z0-9_]+): (?P<message>.*)$", re.S)
_INTERNAL = re.compile(r"://|\b\d{1,3}(?:\.\d{1,3}){3}\b|Traceback|Error\b|Exception\b")
SENTENCES = {
    "service_unavailable": "a service the step needs did not answer in time; it was retried",
    "step_failed": "the step failed unexpectedly",
}


def public_error(recorded: str | None) -> str | None:
    """``"<code>: <sentence>"`` for an error the engine recorded; None stays None."""
    if not recorded:
        return recorded
    match = _RECORDED.match(recorded)
    kind, text = (match["kind"], match["text"]) if match else ("", recorded)
    if kind == "BusinessRefusal" and (refusal := _REFUSAL.match(text)):
        # A participant's refusal is the same sentence the gateway passes on to a caller directly.
        return _sentence(refusal["code"], refusal["message"])
    if kind == "StepRefused":  # decided by our own step code, in words meant for people
        return _sentence("step_refused", text)
    if kind == "InfrastructureFault":
        return f"service_unavailable: {SENTENCES['service_unavailable']}"
    return f"step_failed: {SENTENCES['step_failed']}"


def _sentence(code: str, message: str) -> str:
    if _INTERNAL.search(message) or len(message) > 200:
        message = SENTENCES["step_failed"]
    return f"{code}: {message.strip()}"


def saga_for(principal: Principal, saga: dict[str, Any]) -> dict[str, Any]:
    """The saga view as ``principal`` may see it: errors redacted unless an admin is looking."""
    if principal.is_admin:
        return saga
    steps = [{**step, "error": public_error(step.get("error"))} for step in saga.get("steps", [])]
    return {**saga, "error": public_error(saga.get("error")), **({"steps": steps} if "steps" in saga else {})}
