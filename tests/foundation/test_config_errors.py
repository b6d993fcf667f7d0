"""Bad configuration ends with one clear line and exit status 2, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_mimic(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE"))}
    environment.update({"VAR_DIR": str(tmp_path / "var"), **env})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_help_lists_every_subcommand(tmp_path):
    result = run_mimic(["--help"], tmp_path)
    assert result.returncode == 0
    for name in ("run", "bot", "worker", "web", "demo", "db", "verify-files", "trace"):
        assert name in result.stdout


def test_malformed_database_url(tmp_path):
    assert_one_line_error(run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="not a url"), "DATABASE_URL")


def test_unknown_database_dialect(tmp_path):
    assert_one_line_error(run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="nosuchdb://x/y"), "DATABASE_URL")


def test_unreachable_postgres_is_one_line(tmp_path):
    result = run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert_one_line_error(result, "database unreachable")


def test_unreachable_redis(tmp_path):
    result = run_mimic(["worker", "--burst"], tmp_path, REDIS_URL="redis://127.0.0.1:1/0",
                       DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}")
    assert_one_line_error(result, "Redis unreachable")


def test_unwritable_storage_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_mimic(["worker", "--burst"], tmp_path, STORAGE_DIR=str(blocker / "blobs"))
    assert_one_line_error(result, "STORAGE_DIR")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; the file-in-the-way case covers it")
def test_read_only_storage_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert_one_line_error(run_mimic(["worker", "--burst"], tmp_path, STORAGE_DIR=str(ro)), "STORAGE_DIR")


def test_secret_never_printed(tmp_path):
    result = run_mimic(["db", "upgrade"], tmp_path,
                       DATABASE_URL="postgresql://user:hunter2secret@127.0.0.1:1/none")
    assert "hunter2secret" not in result.stderr + result.stdout


@pytest.mark.parametrize("variable, url, args", [
    ("REDIS_URL", "redis://127.0.0.1:1/0?password=QSECRET-redis", ["worker", "--burst"]),
    ("REDIS_URL", "redis://:USERINFO-secret@127.0.0.1:1/0", ["worker", "--burst"]),
    ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?password=QSECRET-pg", ["db", "upgrade"]),
    ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?sslpassword=QSECRET-ssl&connect_timeout=2", ["db", "upgrade"]),
])
def test_query_secrets_never_printed(tmp_path, variable, url, args):
    """A password given as a query parameter is as secret as one in the user-info (issue 17, row 4)."""
    env = {variable: url}
    if variable == "REDIS_URL":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'm.db'}"
    result = run_mimic(args, tmp_path, **env)
    assert_one_line_error(result, "unreachable")
    secret = url.split("=")[1].split("&")[0] if "?" in url else "USERINFO-secret"
    assert secret not in result.stderr + result.stdout
    assert "***" in result.stderr


def test_redact_url_covers_user_info_and_query_secrets():
    from data.settings import Settings, redact_url, secrets_of

    assert redact_url("postgresql://u:pw@h:5432/x?sslpassword=S1&application_name=app") == \
        "postgresql://u:***@h:5432/x?sslpassword=***&application_name=app"
    assert redact_url("redis://h/0?password=S2&access_token=S3&api_key=S4") == \
        "redis://h/0?password=***&access_token=***&api_key=***"
    # URLs that do not parse are still redacted, never raised on
    assert redact_url("postgresql://u:S5@host:notaport/x") == "postgresql://u:***@host:notaport/x"
    assert redact_url("postgresql://u:S6@[::1/x") == "postgresql://u:***@[::1/x"
    assert redact_url("unix:///var/redis.sock") == "unix:///var/redis.sock"
    # and the log redactor learns the same secrets
    found = secrets_of(Settings(redis_url="redis://h/0?password=S7", database_url="postgresql://u:S8@h/x?token=S9"))
    assert {"S7", "S8", "S9"} <= set(found)


@pytest.mark.parametrize("url", ["postgresql://u:pw@host:notaport/x", "postgresql://u:pw@[::1/x"])
def test_database_url_with_a_bad_port_or_ipv6_host_is_one_line(tmp_path, url):
    """SQLAlchemy's parser raises ValueError on these (issue 17, row 5): still one line and exit 2."""
    assert_one_line_error(run_mimic(["db", "upgrade"], tmp_path, DATABASE_URL=url), "DATABASE_URL")


@pytest.mark.parametrize("variable", ["WEB_PORT", "HEALTH_PORT"])
def test_port_out_of_range_is_one_line(tmp_path, variable):
    assert_one_line_error(run_mimic(["web"], tmp_path, **{variable: "99999"}), variable, "65535")


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nobody may write in: a read-only tmpfs for root (who ignores permissions), mode 0500 otherwise."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("root without permission to mount a read-only folder")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_db_upgrade_on_a_read_only_var_dir_is_one_line(tmp_path, read_only_dir):
    result = run_mimic(["db", "upgrade"], tmp_path, VAR_DIR=str(read_only_dir / "var"))
    assert_one_line_error(result, "VAR_DIR")


@pytest.mark.parametrize("token", [None, "", "  "])
def test_bot_without_a_token_is_one_line(tmp_path, token):
    """`mimic bot` without DISCORD_TOKEN, or with the empty one compose passes (`DISCORD_TOKEN=`), says so in one
    line and exits 2; the empty token must not be tried against Discord (issue 17, row 6)."""
    environment = {"DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}", "DISCORD_API_BASE": "http://127.0.0.1:1/api"}
    if token is not None:
        environment["DISCORD_TOKEN"] = token
    result = subprocess.run([sys.executable, "-m", "bot.cli", "bot"], cwd=tmp_path, timeout=120, capture_output=True,
                            text=True, env={**{k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"},
                                            "VAR_DIR": str(tmp_path / "var"), **environment})
    assert_one_line_error(result, "DISCORD_TOKEN is not set")


def test_empty_token_reads_as_none():
    from data.settings import Settings

    assert Settings(discord_token="").discord_token is None
    assert Settings(discord_token="abc").discord_token.get_secret_value() == "abc"
