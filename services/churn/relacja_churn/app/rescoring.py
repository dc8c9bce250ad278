"""Re-score customers with the active run's parameters (after order events or a merge).

A customer's history is measured to ``as_of`` = the later of the run's calibration end,
today (UTC) and the customer's last purchase, so a live score reflects time that passed
since the run was fitted. The value band uses the run's stored CLV cut-offs.

``rescore_customers`` does it for all the customers a consumer batch touched at once:
one read of their purchases, the vectorised models once per distinct ``as_of`` (almost
always one: today), one upsert of the scores and one pass over the tier announcements;
``rescore_customer`` is the same for one customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import ARRAY, any_, cast, delete, select, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.models.bgnbd import BgNbdParams
from ..domain.models.card import score
from ..domain.models.gamma_gamma import GammaGammaParams
from ..domain.models.summary import summarise
from ..domain.models.units import canonical_unit
from ..tables import model_runs, scores
from .store import load_transactions
from .tiers_events import announce_customer_tiers

__all__ = ["rescore_customer", "rescore_customers"]

_SCORE_TYPES = {
    "run_id": "uuid",
    "customer_id": "uuid",
    "as_of": "date",
    "x": "int",
    "t_x": "float8",
    "t_cal": "float8",
    "monetary": "float8",
    "first_purchase_on": "date",
    "last_purchase_on": "date",
    "p_alive": "float8",
    "expected_purchases": "float8",
    "expected_spend": "float8",
    "clv": "float8",
    "risk_tier": "text",
    "value_band": "text",
    "scored_at": "timestamptz",
}
_SCORE_COLUMNS = tuple(_SCORE_TYPES)
# Arrays through unnest: one statement text for any number of customers, prepared once.
_UPSERT_SCORES = text(
    f"INSERT INTO churn_scores ({', '.join(_SCORE_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'CAST(:{c} AS {t}[])' for c, t in _SCORE_TYPES.items())}) "
    "ON CONFLICT (run_id, customer_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _SCORE_COLUMNS if c not in ("run_id", "customer_id"))
)


async def rescore_customer(session: AsyncSession, customer_id: uuid.UUID, *, today: date | None = None) -> bool:
    """Store the customer's score under the active run; False when there is no active run."""
    return await rescore_customers(session, [customer_id], today=today)


async def rescore_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, today: date | None = None
) -> bool:
    """Store these customers' scores under the active run; False when there is no active run."""
    run = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    if run is None:
        return False
    ids = sorted(set(customer_ids))
    if not ids:
        return True
    tx = await load_transactions(session, currency=run.currency, customer_ids=ids)
    # Every order cancelled or returned: no purchase history to score, no score kept.
    unscored = sorted(set(ids) - set(tx.ids))
    if unscored:
        await session.execute(
            delete(scores).where(
                scores.c.run_id == run.id,
                scores.c.customer_id == any_(cast(unscored, ARRAY(PG_UUID(as_uuid=True)))),
            )
        )
    if not tx.ids:
        return True
    today = today or datetime.now(UTC).date()
    last_day = np.zeros(len(tx.ids), dtype=np.int64)
    np.maximum.at(last_day, tx.customer, tx.day)
    as_of = np.maximum(last_day, max(run.calibration_end.toordinal(), today.toordinal()))
    unit = canonical_unit(run.time_unit)
    bg = BgNbdParams(**run.bgnbd)
    gg = GammaGammaParams(**run.gamma_gamma) if run.gamma_gamma else None
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for as_of_day in np.unique(as_of):
        in_group = as_of[tx.customer] == as_of_day
        summary = summarise(
            tx.customer[in_group], tx.day[in_group], tx.amount[in_group], calibration_end_day=int(as_of_day), unit=unit
        )
        result, _ = score(
            bg,
            gg,
            summary.x,
            summary.t_x,
            summary.T,
            summary.monetary,
            unit=unit,
            horizon_months=run.horizon_months,
            monthly_discount_rate=run.monthly_discount_rate,
            band_cutoffs=tuple(run.band_cutoffs),
        )
        for i, key in enumerate(summary.customer):
            rows.append(
                {
                    "run_id": run.id,
                    "customer_id": tx.ids[int(key)],
                    "as_of": date.fromordinal(int(as_of_day)),
                    "x": int(summary.x[i]),
                    "t_x": float(summary.t_x[i]),
                    "t_cal": float(summary.T[i]),
                    "monetary": float(summary.monetary[i]),
                    "first_purchase_on": date.fromordinal(int(summary.first_day[i])),
                    "last_purchase_on": date.fromordinal(int(summary.last_day[i])),
                    "p_alive": float(result.p_alive[i]),
                    "expected_purchases": float(result.expected_purchases[i]),
                    "expected_spend": float(result.expected_spend[i]),
                    "clv": float(result.clv[i]),
                    "risk_tier": str(result.risk_tier[i]),
                    "value_band": str(result.value_band[i]),
                    "scored_at": now,
                }
            )
    rows.sort(key=lambda row: row["customer_id"])  # rows locked in id order, as by every batch writer
    await session.execute(_UPSERT_SCORES, {column: [row[column] for row in rows] for column in _SCORE_COLUMNS})
    await announce_customer_tiers(
        session, run_id=run.id, tiers={row["customer_id"]: (row["risk_tier"], row["p_alive"]) for row in rows}
    )
    return True
