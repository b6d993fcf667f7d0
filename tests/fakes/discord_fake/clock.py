"""A clock the tests can fast-forward: real monotonic time plus an offset.

Discord's deadlines (3 s to acknowledge, 15 min token lifetime) are judged on this clock, so a test
can jump past a deadline without sleeping while the code under test keeps running on real time."""
from __future__ import annotations

import time


class FakeClock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward; everything judged afterwards sees the later time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
