from relacja_tickets.settings import TicketsSettings
from relacja_tickets.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, TicketsSettings().database_url)
