"""Single sign-on with the company's identity provider (OpenID Connect).

``provider`` fetches the discovery document and caches the signing keys, ``validation``
checks a JWT against them, ``roles`` maps the provider's groups to personvern roles,
``authenticator`` accepts the provider's access tokens on the API and ``login`` runs
the staff sign-in (authorization code flow with PKCE).
"""
