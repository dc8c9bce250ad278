"""Pure rules of the orders service: money rounding, pricing, coupons, the status machine, returns
and the import row format. No I/O here; unit-tested in tests/unit/orders/."""
