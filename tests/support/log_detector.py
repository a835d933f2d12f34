"""A pytest plugin: personvern's log records of the whole session, searched for personal data.

A handler on the root logger sees every record personvern (and the uvicorn it runs)
emits during the session, before any redaction: the point is that personvern does not
log personal data, not merely that the redactor hides it. At the end the records are
run through the detector (e-mail addresses, phone numbers, national identity numbers,
tokens); any finding fails the session and is reported by test and kind, never by value.
The tests' own demo identities do not count: only log records are searched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from personvern.observability.logs import extra_fields
from personvern.observability.redaction import find_personal_data

#: Whose records are searched: personvern's, and the server's (access log, errors).
WATCHED = ("personvern", "uvicorn", "celery")


@dataclass(frozen=True)
class Finding:
    """Personal data in one log record: which test, which logger, what kinds."""

    test: str
    logger: str
    kinds: tuple[str, ...]


class _Collector(logging.Handler):
    """Searches each watched record as it is emitted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.current = "(outside a test)"
        self.records = 0
        self.findings: list[Finding] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Search the record's message, arguments, extra fields and traceback."""
        if not record.name.startswith(WATCHED):
            return
        self.records += 1
        try:
            parts = [record.getMessage()]
        except (TypeError, ValueError):
            parts = [str(record.msg), repr(record.args)]
        parts.extend(str(value) for value in extra_fields(record).values())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        kinds = find_personal_data("\n".join(parts))
        if kinds:
            self.findings.append(Finding(self.current, record.name, tuple(sorted(kinds))))


_collector = _Collector()


def _attach() -> None:
    # Again before each test: a test that configures logging (configure_logging removes
    # the root logger's handlers) must not switch the search off for the rest.
    root = logging.getLogger()
    if _collector not in root.handlers:
        root.addHandler(_collector)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start collecting, with personvern's debug records included."""
    logging.getLogger("personvern").setLevel(logging.DEBUG)
    _attach()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> object:
    """Attribute the records emitted while ``item`` runs to it."""
    _attach()
    _collector.current = item.nodeid
    yield
    _collector.current = "(outside a test)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report what was searched and what was found."""
    findings = _collector.findings
    terminalreporter.write_line(
        f"log detector: {_collector.records} log records searched, "
        f"{len(findings)} with personal data"
    )
    for finding in findings[:50]:
        terminalreporter.write_line(
            f"  {finding.test}: {finding.logger} logged {', '.join(finding.kinds)}", red=True
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session if personvern logged personal data."""
    logging.getLogger().removeHandler(_collector)
    if _collector.findings and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
