"""Which orders are purchase occasions: neither cancelled nor fully returned, whatever
their amount — a free order counts, a fully returned one does not (domain.purchases)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from relacja_churn.domain.models.card import fit_models
from relacja_churn.domain.models.summary import summarise
from relacja_churn.domain.purchases import is_fully_returned
from relacja_contracts.events import OrderPlacedV1
from relacja_contracts.events.orders import OrderLine

from .cdnow import CALIBRATION_END, load_cdnow_sample

NOON = datetime(2020, 5, 4, 12, tzinfo=UTC)


def line(quantity: int, returned: int, price: str = "10.00") -> OrderLine:
    amount = Decimal(price) * quantity
    return OrderLine(
        line_no=1,
        sku="SKU",
        quantity=quantity,
        unit_price=Decimal(price),
        discount_amount=Decimal(0),
        line_amount=amount,
        returned_quantity=returned,
    )


def order(gross: str, returned: str = "0", lines: list[OrderLine] | None = None) -> OrderPlacedV1:
    g, r = Decimal(gross), Decimal(returned)
    return OrderPlacedV1(
        customer_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        order_number="U-1",
        status="delivered",
        channel="web",
        placed_at=NOON,
        currency="PLN",
        gross_amount=g,
        tax_amount=Decimal(0),
        total_amount=g,
        returned_amount=r,
        refunded_amount=r,
        net_amount=g - r,
        cost_amount=None,
        margin=None,
        lines=lines or [],
        occurred_at=NOON,
    )


def test_a_free_order_is_a_purchase_not_a_returned_one() -> None:
    assert not is_fully_returned(order("0.00"))
    assert not is_fully_returned(order("0.00", lines=[line(2, 0, price="0.00")]))


def test_an_order_with_every_unit_back_is_fully_returned() -> None:
    assert is_fully_returned(order("20.00", "20.00", lines=[line(2, 2)]))
    assert is_fully_returned(order("0.00", lines=[line(2, 2, price="0.00")]))  # free, but given back
    assert not is_fully_returned(order("20.00", "10.00", lines=[line(2, 1)]))
    assert not is_fully_returned(order("20.00", "10.00", lines=[line(2, 2), line(1, 0)]))


def test_an_order_without_lines_is_fully_returned_by_amount() -> None:
    assert is_fully_returned(order("50.00", "50.00"))
    assert not is_fully_returned(order("50.00", "20.00"))
    assert not is_fully_returned(order("50.00"))


def test_a_customer_whose_orders_are_all_free_is_in_the_cohort_and_out_of_the_spend_fit() -> None:
    """The CDNOW sample with one more customer whose three purchases were all free: BG/NBD
    counts them (x = 2), Gamma-Gamma leaves the customer out (m̄ = 0)."""
    customer, day, amount = load_cdnow_sample()
    free = int(customer.max()) + 1
    first = CALIBRATION_END.toordinal() - 100
    customer = np.r_[customer, [free, free, free]]
    day = np.r_[day, [first, first + 10, first + 40]]
    amount = np.r_[amount, [0.0, 0.0, 0.0]]
    s = summarise(customer, day, amount, calibration_end_day=CALIBRATION_END.toordinal())
    [row] = np.flatnonzero(s.customer == free)
    assert (s.x[row], s.monetary[row]) == (2, 0.0)
    assert s.t_x[row] == 40 / 7 and s.T[row] == 100 / 7
    fitted = fit_models(s)
    assert fitted.bgnbd.n_customers == len(s) == len(np.unique(customer))
    assert fitted.gamma_gamma is not None
    assert fitted.gamma_gamma.n_customers == int(((s.x > 0) & (s.monetary > 0)).sum()) == int((s.x > 0).sum()) - 1
