"""The progress bar of long command-line work: drawn on a terminal, absent from pipes and logs."""
from __future__ import annotations

import io

from bot.console import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_on_a_terminal_and_erases_itself():
    screen = Terminal()
    with Progress("hashing", 4, stream=screen, min_interval_s=0) as bar:
        bar.advance()
        bar.update(4)
    drawn = screen.getvalue()
    assert "hashing [" in drawn and "] 1/4" in drawn and "] 4/4" in drawn
    assert drawn.endswith("\r")  # erased: the next line starts at the left margin


def test_nothing_reaches_a_pipe():
    pipe = io.StringIO()
    with Progress("hashing", 4, stream=pipe) as bar:
        bar.update(2)
    assert pipe.getvalue() == ""


def test_without_a_total_it_counts():
    screen = Terminal()
    with Progress("loading", stream=screen, min_interval_s=0) as bar:
        bar.advance(3)
    assert "loading … 3" in screen.getvalue()
