"""A beat in the background while long work runs, renewing a short claim it holds (an SQS message's visibility, a
lease): alive, the work keeps the claim; dead, it lets go within one short hold instead of its whole time budget."""
from __future__ import annotations

import threading
from types import TracebackType
from typing import Callable

from chalicelib.core.observability import logger


class Heartbeat:
    """`with Heartbeat(every, beat):` calls `beat()` every `every` seconds on a daemon thread until the block ends.

    A failed beat is logged and the next one tried: the claim it renews outlives a beat or two by design."""

    def __init__(self, every: float, beat: Callable[[], None]) -> None:
        self._every = every
        self._beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._beat()
            except Exception:
                logger.exception("heartbeat failed")
