"""HTTP routes of the churn service."""
