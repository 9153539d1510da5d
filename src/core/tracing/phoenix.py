"""Optional export of our spans to an Arize Phoenix collector over OTLP/HTTP (TR3).

Export runs on OpenTelemetry's batch processor thread with a short timeout, so an absent
or slow collector never blocks, slows or fails a model call; it only shows up in the
counters that :meth:`PhoenixExport.status` reports to the Settings page.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from core.credentials import clean_url

log = logging.getLogger("core.tracing")

ENDPOINT_ENV = "PHOENIX_COLLECTOR_ENDPOINT"
DEFAULT_EXPORT_TIMEOUT = 3.0  # seconds per OTLP request, retries included
DEFAULT_SCHEDULE_DELAY_MS = 1000


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base URL (``…/v1/traces`` appended once)."""
    base = endpoint.strip().rstrip("/")
    if "://" not in base:
        base = f"http://{base}"
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def endpoint_from_env() -> str | None:
    """The collector base URL: ``PHOENIX_COLLECTOR_ENDPOINT`` from the environment, else
    from ``.streamlit/secrets.toml``, else the value saved on the Settings page."""
    value = os.environ.get(ENDPOINT_ENV, "").strip()
    if value:
        return value
    from core import app_settings
    from core.credentials import CredentialsError, load_secrets

    try:
        value = str(load_secrets().get(ENDPOINT_ENV) or "").strip()
    except CredentialsError:  # a broken secrets file is reported by the Settings page
        value = ""
    return value or str(app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) or "") or None


def endpoint_source() -> str | None:
    """Where the collector endpoint comes from: ``environment``, ``secrets`` or ``settings``."""
    from core import app_settings
    from core.credentials import CredentialsError, load_secrets

    if os.environ.get(ENDPOINT_ENV, "").strip():
        return "environment"
    try:
        if str(load_secrets().get(ENDPOINT_ENV) or "").strip():
            return "secrets"
    except CredentialsError:
        pass
    return "settings" if app_settings.get_setting(app_settings.PHOENIX_ENDPOINT) else None


class CountingExporter(SpanExporter):
    """Wraps an exporter to count exported and failed spans; never raises."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.exported = 0
        self.failed = 0
        self.last_error: str | None = None
        self.last_export_at: datetime | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # the collector is optional: count, never propagate
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
            self.last_export_at = datetime.now(UTC)
        else:
            self.failed += len(spans)
            self.last_error = self.last_error or "export failed (collector unreachable or refused)"
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class PhoenixExport(SpanProcessor):
    """A span processor forwarding to a Phoenix batch exporter that can be (re)configured live."""

    def __init__(self, project_name: str) -> None:
        self.project_name = project_name
        self._lock = threading.Lock()
        self._endpoint: str | None = None
        self._processor: BatchSpanProcessor | None = None
        self._exporter: CountingExporter | None = None
        self._exported_before = 0
        self._failed_before = 0

    def configure(
        self,
        endpoint: str | None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = DEFAULT_EXPORT_TIMEOUT,
        schedule_delay_millis: float = DEFAULT_SCHEDULE_DELAY_MS,
    ) -> None:
        """Export to ``endpoint`` (a collector base URL) from now on; ``None`` turns export off."""
        new_processor: BatchSpanProcessor | None = None
        new_exporter: CountingExporter | None = None
        url = traces_url(endpoint) if endpoint else None
        if url:
            # Phoenix's exporter adds PHOENIX_API_KEY / PHOENIX_CLIENT_HEADERS auth headers.
            from phoenix.otel import HTTPSpanExporter

            new_exporter = CountingExporter(HTTPSpanExporter(endpoint=url, headers=headers, timeout=timeout))
            new_processor = BatchSpanProcessor(
                new_exporter,
                schedule_delay_millis=schedule_delay_millis,
                export_timeout_millis=timeout * 1000,
            )
        with self._lock:
            old = self._processor
            if self._exporter is not None:
                self._exported_before += self._exporter.exported
                self._failed_before += self._exporter.failed
            self._processor, self._exporter, self._endpoint = new_processor, new_exporter, url
        if old is not None:
            # Shutting down flushes with the old timeout: do it off the caller's thread.
            threading.Thread(target=old.shutdown, name="phoenix-export-stop", daemon=True).start()

    @property
    def endpoint(self) -> str | None:
        """The OTLP traces URL spans go to, or None."""
        return self._endpoint

    def status(self) -> dict[str, Any]:
        """Configured endpoint (credentials removed), project, exported/failed span counts."""
        exp = self._exporter
        return {
            "enabled": self._processor is not None,
            "endpoint": clean_url(self._endpoint),
            "project": self.project_name,
            "exported": self._exported_before + (exp.exported if exp else 0),
            "failed": self._failed_before + (exp.failed if exp else 0),
            "last_error": exp.last_error if exp else None,
            "last_export_at": exp.last_export_at.isoformat() if exp and exp.last_export_at else None,
        }

    # -- SpanProcessor -----------------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        processor = self._processor
        if processor is not None:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        processor = self._processor
        if processor is not None:
            processor.on_end(span)

    def shutdown(self) -> None:
        processor = self._processor
        if processor is not None:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        processor = self._processor
        return processor.force_flush(timeout_millis) if processor is not None else True
