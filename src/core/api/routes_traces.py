"""OTLP/HTTP trace ingestion: ``POST /v1/traces`` (TR1).

Apps instrumented with OpenTelemetry/OpenInference can export to the workbench exactly as
they would to a Phoenix collector (protobuf or JSON, optionally gzip), with the API token
in ``OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <token>``. Spans land in the request
log of the token's workspace; duplicates are ignored.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from core.api.security import DbDep, PrincipalDep
from core.tracing.otlp import JSON, PROTOBUF, OtlpDecodeError, ingest_otlp

router = APIRouter(prefix="/v1", tags=["traces"])
MAX_BODY_BYTES = 20_000_000


@router.post(
    "/traces",
    summary="Receive spans over OTLP/HTTP",
    responses={400: {"description": "Not an OTLP trace export"}, 413: {"description": "Too large"}},
)
async def receive_traces(request: Request, db: DbDep, who: PrincipalDep) -> Response:
    """Store the spans of one OTLP export request; answers in the request's encoding."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(413, f"body is {len(body):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    content_type = request.headers.get("content-type", PROTOBUF)
    try:
        ingest_otlp(db, body, content_type, workspace_id=who.workspace_id,
                    content_encoding=request.headers.get("content-encoding"))
    except OtlpDecodeError as exc:
        raise HTTPException(400, f"not an OTLP trace export: {exc}") from exc
    if content_type.split(";")[0].strip().lower() == JSON:
        return Response("{}", media_type=JSON)
    return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)
