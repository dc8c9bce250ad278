from relacja_sales.settings import SalesSettings
from relacja_sales.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, SalesSettings().database_url)
