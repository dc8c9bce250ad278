from relacja_servicekit.migrations import run_migrations
from relacja_sharing.settings import SharingSettings
from relacja_sharing.tables import metadata

run_migrations(metadata, SharingSettings().database_url)
