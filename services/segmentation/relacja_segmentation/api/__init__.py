"""HTTP routes of the segmentation service."""
