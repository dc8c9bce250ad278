"""Pure rules of the sales service (no I/O): who sees what, pipelines and stages, deal
checks, stage-history reports, the weighted forecast's arithmetic, lead scoring."""
