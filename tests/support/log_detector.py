"""A pytest plugin: personvern's log records of the whole session, searched for personal data.

A handler on the root logger sees every record personvern (and the uvicorn it runs)
emits during the session, before any redaction: the point is that personvern does not
log personal data, not merely that the redactor hides it. Each record is run through the
detector (e-mail addresses, phone numbers, national identity numbers, tokens) as it is
emitted; a finding fails the test it was emitted in (so it also fails a run spread over
pytest-xdist workers) and is reported by test and kind, never by value. The tests' own
demo identities do not count: only log records are searched.
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


#: What the summary adds up from every test's report (also those of xdist workers).
_totals = {"records": 0, "findings": 0}
_reported: list[str] = []
_SEARCHED = "log_records_searched"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> object:
    """Attribute the records emitted while ``item`` runs to it."""
    _attach()
    _collector.current = item.nodeid
    yield
    _collector.current = "(outside a test)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """After the test's teardown: fail it if it logged personal data; note what was searched."""
    outcome = yield
    if call.when == "setup":
        item.stash[_start] = (_collector.records, len(_collector.findings))
        return
    if call.when != "teardown":
        return
    report = outcome.get_result()
    records, findings = item.stash.get(_start, (0, 0))
    found = _collector.findings[findings:]
    report.user_properties.append((_SEARCHED, _collector.records - records))
    if found and report.passed:
        report.outcome = "failed"
        report.longrepr = "personvern logged personal data in this test: " + "; ".join(
            f"{f.logger} logged {', '.join(f.kinds)}" for f in found
        )


_start = pytest.StashKey[tuple[int, int]]()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up what each test searched and found (reports arrive here from workers too)."""
    if report.when != "teardown":
        return
    _totals["records"] += sum(v for k, v in report.user_properties if k == _SEARCHED)
    if report.failed and str(report.longrepr).startswith("personvern logged personal data"):
        _totals["findings"] += 1
        _reported.append(f"{report.nodeid}: {report.longrepr}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report what was searched and what was found."""
    terminalreporter.write_line(
        f"log detector: {_totals['records']} log records searched, "
        f"{_totals['findings']} tests logged personal data"
    )
    for line in _reported[:50]:
        terminalreporter.write_line(f"  {line}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop collecting."""
    logging.getLogger().removeHandler(_collector)
