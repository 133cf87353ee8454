"""Code every service and worker shares: config, database, HTTP client, errors, logging."""
