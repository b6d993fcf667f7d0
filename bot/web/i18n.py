"""The web gallery's languages: the choice for a request, and its page strings (kept in bot.i18n's one catalogue).

The choice: `?lang=` (remembered in a cookie), then the cookie, then Accept-Language, then English."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.i18n import LANGUAGES, MESSAGES, t
from bot.l10n import format_datetime

LOCALES = LANGUAGES
DEFAULT = "en"


def text(locale: str, key: str, **params) -> str:
    """A page string in the request's language, from the one catalogue (bot.i18n) that Discord reads too."""
    return t(key, locale if locale in LOCALES else DEFAULT, **params)


def pick_locale(query_lang: str | None, cookie_lang: str | None, accept_language: str) -> str:
    for choice in (query_lang, cookie_lang):
        if choice in LOCALES:
            return choice
    return negotiate(accept_language)


def negotiate(accept_language: str) -> str:
    """Best of our locales for an Accept-Language header (q-values honoured, regions ignored)."""
    best, best_q = DEFAULT, 0.0
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        q -= position * 1e-3  # earlier wins a tie
        if base in LOCALES and q > best_q:
            best, best_q = base, q
    return best


def refusal_text(locale: str, key: str, params: dict) -> str:
    """A use case's Refusal, in words: the catalogue's entry for its key, or a generic sentence for one it lacks."""
    if key not in MESSAGES:
        return text(locale, "refusal.generic")
    try:
        return text(locale, key, **params)
    except (KeyError, IndexError, ValueError):
        return text(locale, "refusal.generic")


def format_time(value: datetime | None, locale: str) -> str:
    if value is None:
        return ""
    return format_datetime(iso_time(value), locale)


def iso_time(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_bytes(size: int, locale: str) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
