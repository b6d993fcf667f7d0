"""The rules of each language from CLDR, through Babel: plural categories and dates, for every catalogue.

A message that counts something is a `Plural`: one form per plural category of the language (English has "one"
and "other", Japanese only "other"), chosen by Babel from the number, never by `n == 1` in our code."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from babel import Locale
from babel.dates import format_skeleton


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def plural_category(count: object, lang: str) -> str:
    """CLDR's category for a number ("one", "other", ...); "other" for anything that is not a number."""
    try:
        number = abs(float(count)) if not isinstance(count, int) else abs(count)
    except (TypeError, ValueError):
        return "other"
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return _locale(lang).plural_form(number)


class Plural(str):
    """A message with a form per plural category; as a string it is its "other" form (what checks of a
    catalogue's placeholders read). `operand` names the parameter whose number decides."""

    forms: dict[str, str]
    operand: str

    def __new__(cls, operand: str, *, other: str, **forms: str) -> "Plural":
        value = super().__new__(cls, other)
        value.operand = operand
        value.forms = {**forms, "other": other}
        return value

    def pick(self, lang: str, params: dict) -> str:
        return self.forms.get(plural_category(params.get(self.operand), lang), self.forms["other"])

    def __reduce__(self):  # str's own would drop the forms
        return (_plural, (self.operand, self.forms))


def _plural(operand: str, forms: dict[str, str]) -> Plural:
    return Plural(operand, **forms)


def choose(template: str, lang: str, params: dict) -> str:
    """The form of a catalogue entry for these parameters (a plain string is its only form)."""
    return template.pick(lang, params) if isinstance(template, Plural) else template


def format_datetime(value: datetime, lang: str) -> str:
    """A date and time in UTC as the language writes it: "Dec 3, 2026, 08:04 UTC", "2026年12月3日 8:04 UTC"."""
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    locale = _locale(lang)
    date = format_skeleton("yMMMd", value, tzinfo=timezone.utc, locale=locale)
    time = format_skeleton("Hm", value, tzinfo=timezone.utc, locale=locale)
    return locale.datetime_formats["medium"].format(time, date) + " UTC"
