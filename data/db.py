"""One session factory for SQLite and PostgreSQL, and schema upgrades through Alembic."""
from __future__ import annotations

import contextlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from data.settings import ConfigError, Settings, redact_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a port that is not a number fails here, not at the first connection
    except ArgumentError:
        raise ConfigError("DATABASE_URL is malformed: expected sqlite:///path or postgresql://user@host/db") from None
    except ValueError:  # SQLAlchemy's own parser: a port that is not a number, an IPv6 host without its "]"
        raise ConfigError("DATABASE_URL is malformed: its port is not a number (IPv6 hosts go in brackets: "
                          "postgresql://user@[::1]:5432/db)") from None
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a read-only VAR_DIR, a file in the way
                raise ConfigError(f"the database folder {folder} cannot be created "
                                  f"({exc.strerror or exc}): check VAR_DIR or DATABASE_URL") from None
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):  # WAL lets the bot read while a worker writes
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # unknown dialect, missing driver
        raise ConfigError(f"DATABASE_URL cannot be used: {type(exc).__name__}") from None


class Database:
    """Owns the engine; hands out sessions. Sync on purpose: callers on the event loop use asyncio.to_thread."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(settings.resolved_database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def check(self) -> None:
        """Connect once, turning an unreachable server into a ConfigError."""
        try:
            with self.engine.connect():
                pass
        except OperationalError as exc:
            raise ConfigError(f"database unreachable at {redact_url(self.url)}: "
                              f"{str(exc.orig).strip().splitlines()[0] if exc.orig else 'connection failed'}") from None

    def upgrade(self, revision: str = "head", *, progress: Callable[[str, int], Any] | None = None) -> list[str]:
        """Apply the migrations up to `revision`; the ones applied, oldest first. `progress(label, total)`, when
        given, is a bar (a context manager with `advance()`) that follows them: the command line's, on a terminal."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        self.check()
        cfg = alembic_config(self.url)
        with self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        pending = [r.revision for r in ScriptDirectory.from_config(cfg).iterate_revisions(revision, current)]
        applied: list[str] = []
        with (progress("upgrading the database", len(pending)) if progress else contextlib.nullcontext()) as bar:
            def on_version_apply(*, step, **_):  # alembic calls this after each migration (env.py passes it)
                applied.extend(step.up_revision_ids if step.is_upgrade else ())
                if bar is not None:
                    bar.advance()
            cfg.attributes["on_version_apply"] = on_version_apply
            try:
                command.upgrade(cfg, revision)
            except OperationalError as exc:  # a read-only database file or folder, a full disk
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "the database refused the change"
                raise ConfigError(f"the database at {redact_url(self.url)} cannot be upgraded: {reason}") from None
        return applied

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
