"""Relacja's local stack: embedded PostgreSQL, an in-memory Kafka-protocol broker and
every service, started with one command (``python -m relacja_devstack run``) or from the
test suite::

    from relacja_devstack import Stack, StackConfig

    stack = Stack(StackConfig.for_profile("test"))
    await stack.start(fresh=True)
    ...
    await stack.stop()

No Docker and no root needed; see README.md next to this package.
"""

from .config import PROFILES, StackConfig
from .processes import StackError
from .services import SERVICES, ServiceSpec
from .stack import Stack, mint_local_token

__all__ = ["PROFILES", "SERVICES", "ServiceSpec", "Stack", "StackConfig", "StackError", "mint_local_token"]
