"""Liveness and readiness, for load balancers and orchestrators (no token needed, nothing personal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, text

from overheard.api.auth import engine_of
from storage.database import table_names

router = APIRouter(prefix="/api", tags=["health"])
REQUIRED_TABLES = ("mentions", "verdicts", "routes", "deliveries", "contacts", "api_tokens", "triage_feedback")


class Health(BaseModel):
    status: str
    detail: str | None = None


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/ready", response_model=Health, responses={503: {"model": Health, "description": "Not ready."}})
def ready(engine: Annotated[Engine, Depends(engine_of)]) -> Health | JSONResponse:
    """The database answers and is migrated."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        missing = sorted(set(REQUIRED_TABLES) - set(table_names(engine)))
    except Exception as exc:  # any failure to reach the database means not ready
        return JSONResponse(
            {"status": "unavailable", "detail": f"database unreachable: {type(exc).__name__}"}, status_code=503
        )
    if missing:
        return JSONResponse(
            {"status": "unavailable", "detail": f"run the migrations: missing tables {', '.join(missing)}"},
            status_code=503,
        )
    return Health(status="ready")
