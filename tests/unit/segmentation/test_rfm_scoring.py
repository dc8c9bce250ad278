"""RFM quintile scoring by rank: group sizes, the tie rule, names and single-customer scoring."""

from __future__ import annotations

import numpy as np
import pytest

from relacja_segmentation.domain import rfm


def test_scores_split_n_customers_into_five_equal_groups_best_last() -> None:
    values = np.arange(10)
    scores = rfm.rank_quintiles([values])
    assert scores.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_uneven_counts_differ_by_at_most_one_per_group() -> None:
    for n in (1, 2, 3, 4, 6, 7, 13, 101):
        counts = np.bincount(rfm.rank_quintiles([np.arange(n)]), minlength=6)[1:]
        assert counts.sum() == n
        assert counts.max() - counts.min() <= 1
        assert counts.max() <= -(-n // 5)


def test_heavy_ties_still_give_five_groups_of_one_fifth() -> None:
    # 70 % bought once: cutting values would give one huge group; ranks give five.
    purchases = np.array([1] * 70 + [2] * 20 + [5] * 10)
    last_day = np.arange(100)[::-1]  # within a tie, who bought more recently ranks higher
    monetary = np.full(100, 100)
    scores = rfm.rfm_scores(last_day, purchases, monetary)
    assert np.bincount(scores.f, minlength=6)[1:].tolist() == [20, 20, 20, 20, 20]
    # The tie on frequency is broken by recency: the most recent one-time buyers score 4.
    one_timers = np.nonzero(purchases == 1)[0]
    assert scores.f[one_timers].max() == 4
    assert scores.f[one_timers[np.argmax(last_day[one_timers])]] == 4
    assert scores.f[one_timers[np.argmin(last_day[one_timers])]] == 1
    assert scores.f[purchases == 5].tolist() == [5] * 10


def test_full_ties_are_broken_by_the_tiebreak_key_ascending() -> None:
    same = np.zeros(5, dtype=np.int64)
    ids = np.array(["e", "a", "d", "b", "c"])
    scores = rfm.rfm_scores(same, same, same, tiebreak=ids)
    assert scores.r.tolist() == [5, 1, 4, 2, 3]
    assert scores.f.tolist() == scores.r.tolist() == scores.m.tolist()


def test_recency_ranks_later_last_purchase_higher() -> None:
    scores = rfm.rfm_scores(np.array([10, 50, 30, 40, 20]), np.ones(5, dtype=int), np.ones(5, dtype=int))
    assert scores.r.tolist() == [1, 5, 3, 4, 2]


def test_the_segment_grid_covers_every_score_pair_with_the_documented_names() -> None:
    names = {rfm.segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert names == set(rfm.RFM_SEGMENTS)
    assert rfm.segment_of(5, 5) == "champions"
    assert rfm.segment_of(5, 1) == "new"
    assert rfm.segment_of(4, 1) == "promising"
    assert rfm.segment_of(3, 3) == "need_attention"
    assert rfm.segment_of(1, 5) == "cannot_lose_them"
    assert rfm.segment_of(1, 1) == "lost"
    assert rfm.segment_of(2, 2) == "hibernating"
    assert rfm.segment_of(2, 3) == "at_risk"
    assert rfm.segment_of(3, 1) == "about_to_sleep"
    assert rfm.segment_of(4, 3) == "potential_loyalist"
    assert rfm.segment_of(4, 4) == "loyal"
    with pytest.raises(ValueError):
        rfm.segment_of(0, 3)


def test_vectorised_names_agree_with_the_scalar_mapping() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    names = rfm.segment_names(r.ravel(), f.ravel())
    assert names.tolist() == [rfm.segment_of(int(a), int(b)) for a, b in zip(r.ravel(), f.ravel(), strict=True)]


def test_a_customer_scored_against_stored_boundaries_gets_its_full_recomputation_score() -> None:
    rng = np.random.default_rng(7)
    n = 997
    last_day = rng.integers(0, 400, n)
    purchases = rng.integers(1, 4, n)
    monetary = rng.integers(1, 10_000, n)
    # The tie-break is the customer id as a string, as in the service; zero-padded, so ids sort like positions.
    ids = [f"{i:04d}" for i in range(n)]
    scores = rfm.rfm_scores(last_day, purchases, monetary, np.array(ids))
    bounds = rfm.boundaries_of(last_day, purchases, monetary, np.array(ids))
    for i in range(0, n, 17):
        got = {
            d: rfm.score_against(
                rfm.key_of(d, int(last_day[i]), int(purchases[i]), int(monetary[i]), ids[i]), bounds[d]
            )
            for d in "rfm"
        }
        assert got == {"r": scores.r[i], "f": scores.f[i], "m": scores.m[i]}


def test_no_customers_no_scores() -> None:
    empty = np.array([], dtype=np.int64)
    assert len(rfm.rfm_scores(empty, empty, empty).r) == 0
