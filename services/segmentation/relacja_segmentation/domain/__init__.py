"""Pure, vectorised segmentation rules: no database, no I/O.

rfm.py       quintile scores by rank (ties broken by a documented order) and segment names
abc.py       ABC classes by cumulative share of net revenue
loyalty.py   the loyalty matrix (Reinartz & Kumar): quadrants, measurement and treatment
rules.py     the JSON rule language of rule-based segments: parse and validate
"""
