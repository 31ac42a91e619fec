"""Routes (which team got which mention) and their deliveries, with retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Engine

from enrichers.model import DeliveryStatus, Team
from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import MAX_ROW_ID
from overheard.services import routing

router = APIRouter(prefix="/api", tags=["routes and deliveries"], responses=ERRORS)
RouteStatus = Annotated[str, Query(pattern=r"^(open|done)$")]


@router.get("/routes", response_model=list[views.RouteView], summary="Routes, newest first, with their deliveries")
def list_routes(
    principal: Annotated[Principal, Depends(allow(Capability.read_routes))],
    engine: Annotated[Engine, Depends(engine_of)],
    team: Team | None = None,
    status: RouteStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[views.RouteView]:
    return [
        views.RouteView.model_validate(r)
        for r in routing.list_routes(engine, principal, team=team, status=status, limit=limit)
    ]


@router.get("/deliveries", response_model=list[views.DeliveryView], summary="Deliveries, newest first")
def list_deliveries(
    principal: Annotated[Principal, Depends(allow(Capability.read_routes))],
    engine: Annotated[Engine, Depends(engine_of)],
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[views.DeliveryView]:
    return [
        views.DeliveryView.model_validate(d)
        for d in routing.list_deliveries(engine, principal, status=status, limit=limit)
    ]


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=views.DeliveryView,
    responses={
        404: {"model": Problem, "description": "No such delivery, or not one of your role's routes."},
        409: {"model": Problem, "description": "Only failed or dead deliveries can be retried."},
    },
)
def retry(
    delivery_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    principal: Annotated[Principal, Depends(allow(Capability.retry_deliveries))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> views.DeliveryView:
    """Queue a failed or dead delivery for the next delivery run (its idempotency key makes a repeat safe)."""
    return views.DeliveryView.model_validate(routing.retry_delivery(engine, principal, delivery_id))
