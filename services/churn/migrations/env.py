from relacja_churn.settings import ChurnSettings
from relacja_churn.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, ChurnSettings().database_url)
