"""Logging set-up that keeps secrets out of the logs."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(xox[abposr]-[0-9A-Za-z-]+|xapp-[0-9A-Za-z-]+|Bearer\s+[^\s\"']+|Basic\s+[A-Za-z0-9+/=]+)")


class RedactSecrets(logging.Filter):
    """Belt and braces: even if a library logs a header, tokens never reach the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET.sub("[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
