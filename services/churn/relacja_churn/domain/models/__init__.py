"""The "buy till you die" models, pure NumPy/SciPy, no I/O.

units.py        time units (day, week, month; the old plurals mapped) and their lengths
summary.py      (x, t_x, T, mean repeat value) per customer from a transaction log
grouping.py     identical (x, t_x, T) rows collapsed into weighted groups
bgnbd.py        BG/NBD (Fader, Hardie & Lee 2005): likelihood, fit, P(alive), E[purchases]
gamma_gamma.py  Gamma-Gamma spend model (Fader & Hardie 2013): likelihood, fit, E[spend]
clv.py          discounted customer lifetime value
tiers.py        churn-risk tiers and value bands
card.py         fit both models on a summary and describe the result (the model card)
"""
