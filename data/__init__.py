"""Persistence for mimic: settings, tables, sessions, blob storage, Redis and events.

Nothing here knows about Discord or torch."""
