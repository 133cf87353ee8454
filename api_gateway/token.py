"""``python -m api_gateway.token --sub <uuid> --role admin [--ttl 3600]``: print a gateway token."""
from __future__ import annotations

import argparse
import sys
from uuid import UUID

from api_gateway.auth import ROLES, issue_token
from campus_common.config import load_settings


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
    """Parse the arguments and print a token signed with GATEWAY_JWT_SECRET."""
    parser = argparse.ArgumentParser(prog="python -m api_gateway.token",
                                     description="Print a bearer token for the API gateway.")
    parser.add_argument("--sub", required=True, type=_uuid, help="the user id the token speaks for")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--ttl", type=_positive, default=3600, help="seconds until it expires (3600)")
    args = parser.parse_args(argv)
    print(issue_token(args.sub, args.role, load_settings().gateway_jwt_secret, args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
