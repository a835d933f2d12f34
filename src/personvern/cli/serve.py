"""`personvern serve`: the HTTP API (and later the web pages) under uvicorn."""

from __future__ import annotations

from pathlib import Path

import typer

from personvern.cli.output import DatamapOption, errors


def register(app: typer.Typer) -> None:
    """Add `serve` to ``app``."""
    app.command("serve")(serve)


def serve(
    host: str | None = typer.Option(
        None, "--host", help="address to listen on [default: 127.0.0.1]"
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="port to listen on [default: 8000]"
    ),
    datamap: Path | None = DatamapOption,
) -> None:
    """Serve the API on http://HOST:PORT (docs at /api/v1/docs)."""
    import uvicorn

    from personvern.api.app import create_app
    from personvern.api.context import AppContext
    from personvern.observability.logs import configure_logging
    from personvern.settings import load_settings

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)
    configure_logging(settings.effective_log_format)
    app = create_app(settings, datamap)
    context: AppContext = app.state.context
    problem = context.application.datamap.error
    if problem is not None:
        errors.print(
            f"personvern: warning: serving without a data map: {problem}",
            markup=False,
        )
    errors.print(
        f"personvern: serving on http://{settings.host}:{settings.port} "
        f"(API docs: http://{settings.host}:{settings.port}/api/v1/docs)",
        markup=False,
    )
    # log_config=None: uvicorn keeps its hands off logging; its records reach the redacting
    # handler configure_logging installed.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,
        # Only a trusted proxy may say which client called and that it spoke TLS.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
