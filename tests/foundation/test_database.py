"""Migrations on SQLite and PostgreSQL, and that they describe exactly the SQLModel tables."""
from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import data.models  # noqa: F401
from data.db import Database
from data.models import Maker, User


def _upgrade_via_cli(url: str, tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def _assert_schema_matches_models(url: str) -> None:
    db = Database(url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    db.dispose()
    assert diff == [], f"migrations and models differ: {diff}"


def test_upgrade_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'mimic.db'}"
    _upgrade_via_cli(url, tmp_path)
    _upgrade_via_cli(url, tmp_path)  # a second upgrade is a no-op
    _assert_schema_matches_models(url)


def test_upgrade_postgres(pg_url, tmp_path):
    _upgrade_via_cli(pg_url, tmp_path)
    _assert_schema_matches_models(pg_url)
    db = Database(pg_url)
    with db.session() as s:  # big Discord snowflakes fit
        user = User(discord_id=1_234_567_890_123_456_789, display_name="aoi")
        s.add(user)
        s.commit()
        s.add(Maker(owner_id=user.id, name="aoi-style"))
        s.commit()
        assert s.exec(sa.select(sa.func.count()).select_from(Maker)).one()[0] == 1
    db.dispose()


def test_maker_names_unique(ctx):
    with ctx.db.session() as s:
        user = User(display_name="a")
        s.add(user)
        s.commit()
        s.add(Maker(owner_id=user.id, name="same"))
        s.commit()
        s.add(Maker(owner_id=user.id, name="same"))
        try:
            s.commit()
            raised = False
        except sa.exc.IntegrityError:
            raised = True
    assert raised
