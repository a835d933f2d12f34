"""personvern's log output: one JSON object (or one text line) per record, redacted.

Every record passes :func:`personvern.observability.redaction.redact` on its way out:
the message with its arguments, every extra field and the traceback. The redaction is
the last line of defence; personvern's own code does not log personal data in the
first place (the test suite's log detector checks that).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["json", "text"]

#: The attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
#: Loggers of the server that must go through the same handler.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")


def _redacted(value: Any) -> Any:
    from personvern.observability.redaction import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller added to ``record`` with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The redacted record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _redacted(record.getMessage()),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, _redacted(value))
        if record.exc_info:
            entry["exception"] = _redacted(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message`` for people at a terminal, redacted like the JSON."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The redacted record as one line (plus the traceback, if any)."""
        from personvern.observability.redaction import redact

        return redact(super().format(record))


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter for ``log_format``."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: LogFormat, level: str = "INFO") -> None:
    """Send every log record (personvern's, uvicorn's, Celery's) to stderr, redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The servers' loggers keep no handlers of their own, so every line leaves through ours.
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
