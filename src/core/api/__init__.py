"""The REST API (FastAPI): prompts today; annotations and OTLP routes plug in as routers."""

from core.api.app import create_app

__all__ = ["create_app"]
