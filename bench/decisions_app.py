"""The app for uvicorn's ``--factory`` with several worker processes (bench/decisions.py)."""

from __future__ import annotations

from fastapi import FastAPI


def app() -> FastAPI:
    """personvern's app from the environment's settings, without migrating (done before)."""
    from personvern.api.app import create_app
    from personvern.settings import load_settings

    return create_app(load_settings())
