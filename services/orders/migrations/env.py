from relacja_orders.settings import OrdersSettings
from relacja_orders.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, OrdersSettings().database_url)
