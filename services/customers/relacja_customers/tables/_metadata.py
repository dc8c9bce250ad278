"""The one ``MetaData`` of the customers database."""

from sqlalchemy import MetaData

__all__ = ["metadata"]

metadata = MetaData()
