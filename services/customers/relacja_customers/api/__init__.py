"""HTTP routes of the customers service and their request/response models."""
