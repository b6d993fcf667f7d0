"""Logging for every `mimic` command: LOG_LEVEL, and LOG_FORMAT=text (for people) or json (one object per line,
for log collectors). Every configured secret is removed from every line, whatever logged it."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from data.settings import ConfigError, Settings, redact, secrets_of

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# what a LogRecord carries by itself; anything else was passed with `extra=` and goes into the object
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        return json.dumps(entry, ensure_ascii=False)


class Redacting(logging.Formatter):
    """Formats with another formatter, then removes the settings' secrets from the whole line."""

    def __init__(self, inner: logging.Formatter, settings: Settings):
        super().__init__()
        self.inner, self.settings, self.secrets = inner, settings, secrets_of(settings)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.settings, self.secrets)


def configure_logging(settings: Settings) -> None:
    level = settings.log_level.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise ConfigError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (not {settings.log_level!r})")
    inner = JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(Redacting(inner, settings))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
