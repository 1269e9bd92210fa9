"""The heartbeat that renews a long consumer's message hold and the sync's invocation lease while they run."""
from __future__ import annotations

import threading

from chalicelib.core.heartbeat import Heartbeat


def test_it_beats_until_the_block_ends_and_a_failed_beat_does_not_stop_it():
    beats: list[int] = []
    third = threading.Event()

    def beat() -> None:
        beats.append(len(beats))
        if len(beats) == 1:
            raise ConnectionError("SQS did not answer this once")
        if len(beats) == 3:
            third.set()

    with Heartbeat(0.001, beat):
        assert third.wait(30)
    ended = len(beats)
    assert ended >= 3
    threading.Event().wait(0.01)
    assert len(beats) == ended  # nothing beats once the work is over
