"""Re-score one customer with the active run's parameters (after an order or a merge).

The customer's history is measured to ``as_of`` = the later of the run's calibration end,
today (UTC) and the customer's last purchase, so a live score reflects time that passed
since the run was fitted. The value band uses the run's stored CLV cut-offs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.models.bgnbd import BgNbdParams
from ..domain.models.card import score
from ..domain.models.gamma_gamma import GammaGammaParams
from ..domain.models.summary import summarise
from ..domain.models.units import canonical_unit
from ..tables import model_runs, scores
from .store import load_transactions
from .tiers_events import announce_customer_tier

__all__ = ["rescore_customer"]


async def rescore_customer(session: AsyncSession, customer_id: uuid.UUID, *, today: date | None = None) -> bool:
    """Store the customer's score under the active run; False when there is no active run."""
    run = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    if run is None:
        return False
    tx = await load_transactions(session, currency=run.currency, customer_id=customer_id)
    if len(tx.day) == 0:  # every order cancelled or returned: no purchase history to score
        await session.execute(delete(scores).where(scores.c.run_id == run.id, scores.c.customer_id == customer_id))
        return True
    today = today or datetime.now(UTC).date()
    as_of_day = max(run.calibration_end.toordinal(), today.toordinal(), int(tx.day.max()))
    unit = canonical_unit(run.time_unit)
    summary = summarise(tx.customer, tx.day, tx.amount, calibration_end_day=as_of_day, unit=unit)
    bg = BgNbdParams(**run.bgnbd)
    gg = GammaGammaParams(**run.gamma_gamma) if run.gamma_gamma else None
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
    risk_tier, p_alive = str(result.risk_tier[0]), float(result.p_alive[0])
    values = {
        "as_of": date.fromordinal(as_of_day),
        "x": int(summary.x[0]),
        "t_x": float(summary.t_x[0]),
        "t_cal": float(summary.T[0]),
        "monetary": float(summary.monetary[0]),
        "first_purchase_on": date.fromordinal(int(summary.first_day[0])),
        "last_purchase_on": date.fromordinal(int(summary.last_day[0])),
        "p_alive": p_alive,
        "expected_purchases": float(result.expected_purchases[0]),
        "expected_spend": float(result.expected_spend[0]),
        "clv": float(result.clv[0]),
        "risk_tier": risk_tier,
        "value_band": str(result.value_band[0]),
        "scored_at": datetime.now(UTC),
    }
    await session.execute(
        pg_insert(scores)
        .values(run_id=run.id, customer_id=customer_id, **values)
        .on_conflict_do_update(index_elements=["run_id", "customer_id"], set_=values)
    )
    await announce_customer_tier(session, customer_id=customer_id, run_id=run.id, risk_tier=risk_tier, p_alive=p_alive)
    return True
