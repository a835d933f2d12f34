"""Errors say what kind of failure they are; only the entry points turn that into a status."""

from __future__ import annotations

import importlib
import pkgutil

import personvern
from personvern.api.problems import HTTP_STATUS
from personvern.cli.output import EXIT_BAD_INPUT, EXIT_PROBLEMS, exit_code
from personvern.errors import ErrorKind, PersonvernError


def _every_error() -> set[type[PersonvernError]]:
    for module in pkgutil.walk_packages(personvern.__path__, "personvern."):
        # __main__ runs the command line; migrations run only inside Alembic.
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[PersonvernError]] = set()
    todo: list[type[PersonvernError]] = [PersonvernError]
    while todo:
        error = todo.pop()
        found.add(error)
        todo.extend(error.__subclasses__())
    return found


def test_no_error_names_an_http_status_and_every_kind_has_one() -> None:
    errors = _every_error()
    assert len(errors) > 40, "the walk should find personvern's errors"
    named = sorted(e.__qualname__ for e in errors if "http_status" in vars(e))
    assert [] == named, "say the ErrorKind; personvern.api.problems maps it to a status"
    assert all(isinstance(e.kind, ErrorKind) for e in errors)
    assert set(ErrorKind) == set(HTTP_STATUS)


def test_the_command_line_exits_2_for_the_callers_mistakes_and_1_for_ours() -> None:
    def error(kind: ErrorKind) -> PersonvernError:
        made = PersonvernError("x")
        made.kind = kind
        return made

    assert {
        kind: (EXIT_PROBLEMS if kind.is_ours or kind is ErrorKind.TOO_MANY else EXIT_BAD_INPUT)
        for kind in ErrorKind
    } == {kind: exit_code(error(kind)) for kind in ErrorKind}
    assert 4 == sum(exit_code(error(kind)) == EXIT_PROBLEMS for kind in ErrorKind)
