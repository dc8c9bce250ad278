"""The lines ``make run`` prints while a consumer digests a large backlog.

Each consumer logs its progress through a backlog of at least 10,000 events on the
``relacja_messaging.backlog`` logger (``relacja_messaging.progress.BacklogLog``): one line
every 10 s with the events and seconds behind and the rate, and one when it has caught up.
The services log JSON lines to ``<state>/logs/<service>.log``; :class:`BacklogLines`
follows those files from where they end when it is created and hands back just those
lines, formatted for the terminal. Following is a ``stat`` and a read of what was appended
per file and call: nothing is asked of the services, so an idle stack stays idle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

__all__ = ["BACKLOG_LOGGER", "BacklogLines"]

BACKLOG_LOGGER = "relacja_messaging.backlog"
_MARKER = f'"{BACKLOG_LOGGER}"'.encode()


class BacklogLines:
    def __init__(self, logs: Mapping[str, Path]) -> None:
        self._logs = dict(logs)
        self._offsets = {name: _size(path) for name, path in self._logs.items()}
        self._partial: dict[str, bytes] = {}

    def poll(self) -> list[str]:
        """The backlog lines appended to the logs since the last call, as ``HH:MM:SS service: message``."""
        found = []
        for name, path in self._logs.items():
            size = _size(path)
            offset = self._offsets.get(name, 0)
            if size < offset:  # the log was emptied (a fresh start): read it from the top
                offset, self._partial[name] = 0, b""
            if size == offset:
                continue
            with path.open("rb") as log:
                log.seek(offset)
                chunk = self._partial.pop(name, b"") + log.read(size - offset)
            self._offsets[name] = size
            *complete, rest = chunk.split(b"\n")
            if rest:
                self._partial[name] = rest  # a line still being written
            found += [line for raw in complete if _MARKER in raw and (line := _format(name, raw)) is not None]
        return found


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _format(service: str, raw: bytes) -> str | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("logger") != BACKLOG_LOGGER:
        return None
    clock = str(entry.get("time", ""))[11:19]
    return f"{clock} {service}: {entry.get('message', '')}"
