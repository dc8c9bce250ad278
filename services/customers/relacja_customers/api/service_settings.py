"""``GET /api/v1/customers/settings``: the settings that change this service's answers, so
a client can tell why a phone number was read as it was or how far ahead dates are announced."""

from __future__ import annotations

from datetime import UTC, time

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..domain.important_dates import MAX_WINDOW_DAYS
from ..settings import CustomersSettings

__all__ = ["router", "CustomersSettingsPublic"]

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


class CustomersSettingsPublic(BaseModel):
    default_phone_region: str = Field(
        description="ISO 3166-1 alpha-2 region of a phone number written without +<country code> (stored in E.164)",
        examples=["PL"],
    )
    import_max_body_bytes: int = Field(description="Largest body POST /api/v1/customers/imports takes")
    important_dates_lead_days: int = Field(
        description="ImportantDateUpcomingV1 is emitted this many days before a date"
    )
    important_dates_run_at: time = Field(description="Time of day of the daily important-date announcement (UTC)")
    important_dates_max_window_days: int = Field(description="Longest window of GET /api/v1/customers/important-dates")


@router.get(
    "/settings", response_model=CustomersSettingsPublic, summary="The settings that change this service's answers"
)
async def customers_settings(request: Request) -> CustomersSettingsPublic:
    settings: CustomersSettings = request.app.state.settings
    return CustomersSettingsPublic(
        default_phone_region=settings.default_phone_region,
        import_max_body_bytes=settings.import_max_body_bytes,
        important_dates_lead_days=settings.important_dates_lead_days,
        # RFC 3339 full-time carries its offset (the OpenAPI "time" format): the run is at UTC.
        important_dates_run_at=settings.important_dates_run_at.replace(tzinfo=UTC),
        important_dates_max_window_days=MAX_WINDOW_DAYS,
    )
