"""The uplift statistics against a hand-worked example, and the deterministic holdout draw."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from relacja_engagement.domain.holdout import bucket, in_holdout, threshold
from relacja_engagement.domain.uplift import GroupStats, uplift

# Hand-worked: treated revenues 100, 0, 50, 0 (2 of 4 converted); control 40, 0, 0, 0 (1 of 4).
TREATED = GroupStats(n=4, conversions=2, revenue_sum=Decimal("150"), revenue_sum_sq=Decimal("12500"))
CONTROL = GroupStats(n=4, conversions=1, revenue_sum=Decimal("40"), revenue_sum_sq=Decimal("1600"))


def test_conversion_uplift_with_its_95_percent_interval() -> None:
    # p_t = 0.5, p_c = 0.25; se = sqrt(0.5·0.5/4 + 0.25·0.75/4) = sqrt(0.109375) = 0.330719;
    # z = 1.959964; 0.25 ± 0.648197.
    result = uplift(TREATED, CONTROL)
    assert result.conversion is not None
    assert result.conversion.estimate == pytest.approx(0.25)
    assert result.conversion.low == pytest.approx(-0.398197, abs=1e-6)
    assert result.conversion.high == pytest.approx(0.898197, abs=1e-6)


def test_revenue_per_customer_uplift_with_welchs_interval() -> None:
    # means 37.5 and 10; sample variances (62.5² + 37.5² + 12.5² + 37.5²)/3 = 2291.667 and
    # (30² + 3·10²)/3 = 400; se = sqrt(2291.667/4 + 400/4) = 25.94064; 27.5 ± 1.959964·25.94064.
    result = uplift(TREATED, CONTROL)
    assert result.revenue_per_customer is not None
    assert result.revenue_per_customer.estimate == pytest.approx(27.5)
    assert result.revenue_per_customer.low == pytest.approx(27.5 - 50.842717, abs=1e-5)
    assert result.revenue_per_customer.high == pytest.approx(27.5 + 50.842717, abs=1e-5)


def test_no_interval_without_a_control_group() -> None:
    empty = GroupStats(n=0, conversions=0, revenue_sum=Decimal(0), revenue_sum_sq=Decimal(0))
    result = uplift(TREATED, empty)
    assert result.conversion is None and result.revenue_per_customer is None


def test_the_bucket_is_the_md5_of_source_and_customer_as_the_sql_computes_it() -> None:
    source, customer = UUID(int=1), UUID(int=2)
    expected = int(hashlib.md5(f"{source}:{customer}".encode()).hexdigest()[:8], 16) % 10_000
    assert bucket(source, customer) == expected
    assert bucket(source, customer) == bucket(source, customer)


def test_the_holdout_share_is_close_to_the_percentage_and_differs_per_campaign() -> None:
    campaign, other = uuid4(), uuid4()
    customers = [uuid4() for _ in range(20_000)]
    held = [c for c in customers if in_holdout(campaign, c, Decimal("10"))]
    assert 0.09 < len(held) / len(customers) < 0.11
    held_other = {c for c in customers if in_holdout(other, c, Decimal("10"))}
    assert len(held_other.intersection(held)) < len(held) * 0.2  # independent draws
    assert not any(in_holdout(campaign, c, Decimal("0")) for c in customers[:1000])
    assert threshold(Decimal("12.34")) == 1234
