from relacja_customers.settings import CustomersSettings
from relacja_customers.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, CustomersSettings().database_url)
