from relacja_loyalty.settings import LoyaltySettings
from relacja_loyalty.tables import metadata
from relacja_servicekit.migrations import run_migrations

run_migrations(metadata, LoyaltySettings().database_url)
