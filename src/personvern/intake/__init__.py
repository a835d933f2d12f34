"""Intake of data subject requests: filing, proving identity by e-mail code, rejecting.

``service`` holds the use cases (file_request, verify, resend_code, reject), ``views``
reads requests back for staff, ``verification`` and ``rate_limit`` the code rules, and
``details`` what each request type may carry. See ``service`` for how duplicates and
mail failures are handled.
"""

from __future__ import annotations

from personvern.intake.service import (
    Channel,
    FiledRequest,
    file_request,
    reject,
    resend_code,
    verify,
)

__all__ = ["Channel", "FiledRequest", "file_request", "reject", "resend_code", "verify"]
