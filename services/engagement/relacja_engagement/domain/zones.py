"""A customer's time zone for quiet hours: from the country of their first address, or a default.

One zone per country (the capital's) — a country spanning several zones gets its most
populous one; an operator who needs better sets the default or the customer's country.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["COUNTRY_ZONES", "zone_for"]

COUNTRY_ZONES = {
    "PL": "Europe/Warsaw", "DE": "Europe/Berlin", "CZ": "Europe/Prague", "SK": "Europe/Bratislava",
    "AT": "Europe/Vienna", "CH": "Europe/Zurich", "FR": "Europe/Paris", "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam", "LU": "Europe/Luxembourg", "IT": "Europe/Rome", "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon", "GB": "Europe/London", "IE": "Europe/Dublin", "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm", "NO": "Europe/Oslo", "FI": "Europe/Helsinki", "EE": "Europe/Tallinn",
    "LV": "Europe/Riga", "LT": "Europe/Vilnius", "UA": "Europe/Kyiv", "RO": "Europe/Bucharest",
    "BG": "Europe/Sofia", "GR": "Europe/Athens", "HU": "Europe/Budapest", "SI": "Europe/Ljubljana",
    "HR": "Europe/Zagreb", "RS": "Europe/Belgrade", "TR": "Europe/Istanbul", "US": "America/New_York",
    "CA": "America/Toronto", "BR": "America/Sao_Paulo", "MX": "America/Mexico_City", "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai", "IN": "Asia/Kolkata", "AU": "Australia/Sydney", "NZ": "Pacific/Auckland",
}  # fmt: skip


def zone_for(country: str | None, default: str) -> ZoneInfo:
    name = COUNTRY_ZONES.get((country or "").upper(), default)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
