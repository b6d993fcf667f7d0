"""`mimic run` (web + worker in one process) stops cleanly on SIGTERM, as a service manager sends it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigterm_stops_every_service(settings, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "REDIS_PREFIX": settings.redis_prefix, "VAR_DIR": str(tmp_path / "var"), "WEB_PORT": str(port)}
    env.pop("DISCORD_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/makers", timeout=2).status == 200
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the web gallery never answered"
                time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.stderr.read()
        assert "Discord bot disabled: DISCORD_TOKEN is not set" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
