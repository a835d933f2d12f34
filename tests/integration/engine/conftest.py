"""The engine's tests run against the seeded demo company (tests/support/company.py)."""

from __future__ import annotations

from tests.support.company import company, settings

__all__ = ["company", "settings"]
