"""Liveness and readiness, for load balancers and orchestrators (no token needed, nothing personal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine

from overheard.api.auth import engine_of
from storage.database import unready

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
    reason = unready(engine, REQUIRED_TABLES)
    if reason is not None:
        return JSONResponse({"status": "unavailable", "detail": reason}, status_code=503)
    return Health(status="ready")
