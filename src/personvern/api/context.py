"""What one running API holds: the application, its authenticators and its start-up facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from personvern.bootstrap import Application
from personvern.security.auth import Authenticator
from personvern.security.oidc.provider import IdentityProvider
from personvern.settings import Settings


@dataclass
class AppContext:
    """The app's wiring, built once by create_app and read by the dependencies in deps."""

    application: Application
    authenticators: Sequence[Authenticator]
    #: The company's identity provider, when single sign-on is configured.
    identity_provider: IdentityProvider | None = field(default=None)
    #: The migration revision applied at start-up, when the app migrated the store itself.
    migrated_to: str | None = field(default=None)

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return self.application.settings
