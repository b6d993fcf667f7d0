"""A use case's polite "no": a message key from bot.i18n plus the values it needs."""
from __future__ import annotations


class Refusal(Exception):
    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"Refusal({self.key!r}, {self.params!r})"


MAX_ROW_ID = 2**63 - 1  # the largest id a BIGINT (PostgreSQL) or INTEGER (SQLite) column holds


def is_row_id(value: int) -> bool:
    """Whether `value` can be a table row's id at all: ids people type are checked before any database sees them
    (SQLite and PostgreSQL fail on a larger number instead of finding nothing)."""
    return 0 < value <= MAX_ROW_ID
