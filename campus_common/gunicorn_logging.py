"""Gunicorn's own log lines (boot, workers, errors) in the same JSON format as the apps they serve.

Used as ``gunicorn --logger-class campus_common.gunicorn_logging.JsonLogger``.
"""
from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from campus_common.logs import json_formatter


class JsonLogger(Logger):
    """Gunicorn's logger with every handler it installs formatting JSON lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = json_formatter(cfg.proc_name or "gunicorn")
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
