"""``python -m api_gateway.token --sub <uuid> --role admin [--ttl 3600]``: print a gateway token.

The secret is the stack's: GATEWAY_JWT_SECRET from the environment, else from ``<RUN_DIR>/stack.env``
(written by ``make up``). Without a strong one it refuses to sign, as the gateway refuses to start.
"""
from __future__ import annotations

import argparse
import logging
import sys
from uuid import UUID

from api_gateway.auth import ROLES, issue_token
from api_gateway.secret import InsecureSecret, checked_secret
from campus_common.config import load_settings
from campus_common.stackenv import load_stack_env


def _uuid(value: str) -> str:
    try:
        return str(UUID(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a UUID: {value!r}") from exc


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and print a token signed with the stack's GATEWAY_JWT_SECRET."""
    load_stack_env()
    settings = load_settings()
    max_ttl = settings.gateway_token_max_ttl_seconds
    parser = argparse.ArgumentParser(prog="python -m api_gateway.token",
                                     description="Print a bearer token for the API gateway.")
    parser.add_argument("--sub", required=True, type=_uuid, help="the user id the token speaks for")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--ttl", type=_positive, default=min(3600, max_ttl),
                        help=f"seconds until it expires (3600; at most GATEWAY_TOKEN_MAX_TTL_SECONDS={max_ttl})")
    args = parser.parse_args(argv)
    if args.ttl > max_ttl:
        parser.error(f"--ttl {args.ttl} is above the gateway's maximum token lifetime of {max_ttl} seconds")
    logging.basicConfig(format="%(message)s")  # dev mode's warning goes to stderr, the token alone to stdout
    try:
        secret = checked_secret(settings.gateway_jwt_secret, settings.dev_mode)
    except InsecureSecret as exc:
        print(f"api_gateway.token: {exc}; `make up` writes one to <RUN_DIR>/stack.env", file=sys.stderr)
        return 1
    print(issue_token(args.sub, args.role, secret, args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
