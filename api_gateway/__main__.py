"""``python -m api_gateway``: serve the gateway on GATEWAY_HOST:GATEWAY_PORT (127.0.0.1:3100)."""
from __future__ import annotations

import sys

from api_gateway import create_app
from api_gateway.secret import InsecureSecret
from campus_common.config import env_int, env_str


def main() -> None:
    """Run the gateway with Werkzeug's threaded server (gunicorn "api_gateway:create_app()" in production)."""
    try:
        app = create_app()
    except InsecureSecret as exc:
        sys.exit(f"api_gateway: {exc}")
    app.run(host=env_str("GATEWAY_HOST", "127.0.0.1"), port=env_int("GATEWAY_PORT", 3100), threaded=True)


if __name__ == "__main__":
    main()
