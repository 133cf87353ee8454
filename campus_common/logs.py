"""One log format for every process: time, level, process name, logger, message."""
from __future__ import annotations

import logging


def configure_logging(process: str, level: str = "INFO") -> None:
    """Configure the root logger once for ``process``."""
    root = logging.getLogger()
    if getattr(root, "_campus_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    root._campus_configured = True  # type: ignore[attr-defined]
