"""Apply every schema's migrations: each package exposes ``migrate(database_url) -> list[str]``."""
from __future__ import annotations

import importlib
import sys

from campus_common.config import load_settings

MIGRATING_PACKAGES = ("user_service", "order_service", "payment_service", "notification_service", "saga_workers")


def migrate_all(database_url: str) -> dict[str, list[str]]:
    """Migrate every package's schema(s); return what each applied."""
    return {name: importlib.import_module(name).migrate(database_url) for name in MIGRATING_PACKAGES}


def main() -> int:
    """``python -m devstack.migrate``: migrate the database named by DATABASE_URL."""
    for package, applied in migrate_all(load_settings().database_url).items():
        print(f"{package}: {', '.join(applied) if applied else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
