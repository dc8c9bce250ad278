"""Pure rules of the churn service that are not the models themselves (KPIs, periods)."""
