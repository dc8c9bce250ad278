from relacja_segmentation.settings import SegmentationSettings
from relacja_segmentation.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, SegmentationSettings().database_url)
