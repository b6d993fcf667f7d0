"""What long command-line work shows on a terminal: a progress bar on stderr, and libraries kept quiet.

The bar draws only when stderr is a terminal, so pipes, logs and `--json` output stay exactly as they were."""
from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import TextIO

# read by transformers, diffusers and huggingface_hub when they are imported (and by their loggers later)
QUIET_ENV = {"TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
             "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1", "TQDM_DISABLE": "1"}
BAR_WIDTH = 28


def quiet_libraries() -> None:
    """No library warnings, progress bars or info logs: only our own lines and real errors.

    Call before torch, transformers or diffusers are imported; the process is a command line of its own."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("arq", "mimic", "engine", "bot", "data", "verification", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Progress:
    """`label [#####.....] 12/30` redrawn in place on a terminal; nothing at all elsewhere."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 min_interval_s: float = 0.1):
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.active = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interval = min_interval_s
        self._drawn_at = 0.0
        self._width = 0

    def __enter__(self) -> "Progress":
        self._draw(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, done: int | None = None, *, total: int | None = None, advance: int = 0) -> None:
        if total is not None:
            self.total = total
        self.done = done if done is not None else self.done + advance
        self._draw()

    def advance(self, n: int = 1) -> None:
        self.update(advance=n)

    def _draw(self, force: bool = False) -> None:
        if not self.active:
            return
        now = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if not (force or finished) and now - self._drawn_at < self._interval:
            return
        self._drawn_at = now
        if self.total:
            filled = min(BAR_WIDTH, BAR_WIDTH * self.done // self.total)
            line = f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total}"
        else:
            line = f"{self.label} … {self.done}"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def clear(self) -> None:
        """Erase the bar before a line is printed; the next update draws it again below that line."""
        if self.active and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0
        self._drawn_at = 0.0

    close = clear

