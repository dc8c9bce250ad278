"""The built-in evaluation on the project's synthetic history (known structure): the
recommender beats the popularity baseline, the report is stored and readable.

The synthetic history is dated 2001–2002, far outside the live window, so the live pair
counts ignore it and the evaluation's split (2002-06-20) sees nothing of the other tests.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from relacja_recommendations.domain.synthetic import synthetic_history

from .conftest import order, product, profiling, registered, send_all

START = datetime(2001, 1, 1, 12, tzinfo=UTC)


async def test_the_recommender_beats_the_popularity_baseline(api, db, producer) -> None:
    history = synthetic_history(customers=150, families=12, family_size=5, days=720, orders_per_customer=(3, 8))
    run = uuid.uuid4().hex[:6]
    products = [uuid.uuid4() for _ in history.products]
    customers = [uuid.uuid4() for _ in range(150)]
    events = [
        product(
            products[p.index], f"SYN-{run}-{p.index}", category=f"family-{run}-{p.family}", price=f"{p.list_price}.00"
        )
        for p in history.products
    ]
    events += [registered(c) for c in customers] + [profiling(c, at=START) for c in customers]
    events += [
        order(customers[c], [products[i] for i in items], START + timedelta(days=day))
        for c, day, items in history.orders
    ]
    await send_all(producer, db, events, timeout=300)

    created = await api.post(
        "/api/v1/recommendations/evaluations",
        json={"split_at": (START + timedelta(days=540)).isoformat(), "k": 10, "test_days": 180},
        headers={"Idempotency-Key": f"eval-{run}"},
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["test_customers"] > 50 and report["train_baskets"] > 200
    assert report["recommender"]["ndcg"] > report["baseline"]["ndcg"]
    assert report["recommender"]["hit_rate"] > report["baseline"]["hit_rate"]
    assert report["beats_baseline"] is True
    stored = await api.get(created.headers["Location"])
    assert stored.status_code == 200 and stored.json() == report
    listed = await api.get("/api/v1/recommendations/evaluations", params={"limit": 500})
    assert report["id"] in {item["id"] for item in listed.json()["items"]}
