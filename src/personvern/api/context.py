"""What one running API holds: the application, its authenticators and its start-up facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

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

    @cached_property
    def store_key(self) -> str:
        """Which store the app is on, as verified tokens are remembered by (tokens.store_key)."""
        # Rendered once: a URL renders in about a microsecond, on every authenticated call.
        return str(self.application.store.url)

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        return self.application.settings
