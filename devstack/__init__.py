"""Local process management: Postgres, Redis, services and workers on loopback (make up/down, tests)."""
