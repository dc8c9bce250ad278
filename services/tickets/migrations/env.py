from relacja_servicekit.migrations import run_migrations
from relacja_tickets.settings import TicketsSettings
from relacja_tickets.tables import metadata

run_migrations(metadata, TicketsSettings().database_url)
