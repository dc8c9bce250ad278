from relacja_engagement.settings import EngagementSettings
from relacja_engagement.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, EngagementSettings().database_url)
