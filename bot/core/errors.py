"""A use case's polite "no": a message key from bot.i18n plus the values it needs."""
from __future__ import annotations


class Refusal(Exception):
    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    def __repr__(self) -> str:
        return f"Refusal({self.key!r}, {self.params!r})"
