"""Peak memory of `mimic web` while hostile trace uploads arrive (issue 17, row 1).

Starts a real `mimic web` process (its own VAR_DIR and SQLite file, the Redis of REDIS_URL or the embedded one),
waits for it, then posts N flat single-colour PNGs of W×H pixels (default two at once of 8000×5000 = 40 MP, about
130 KB each: inside every upload limit) to the trace form at the same time, and reports the web process's resident
memory before and its peak (VmHWM from /proc, so no sample is missed) after.

    .venv/bin/python bench/hostile_trace.py                  # two concurrent 40 MP traces
    .venv/bin/python bench/hostile_trace.py --concurrent 4 --width 8000 --height 5000
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def flat_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


async def _trace(session: aiohttp.ClientSession, base: str, png: bytes) -> tuple[int, float]:
    page = await (await session.get(f"{base}/trace")).text()
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("image", png, filename="flat.png", content_type="image/png")
    started = time.perf_counter()
    async with session.post(f"{base}/trace", data=form) as response:
        await response.read()
        return response.status, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--width", type=int, default=8000)
    parser.add_argument("--height", type=int, default=5000)
    args = parser.parse_args()

    png = flat_png(args.width, args.height)
    with tempfile.TemporaryDirectory(prefix="mimic-hostile-") as tmp:
        port = _free_port()
        env = {**os.environ, "VAR_DIR": tmp, "DATABASE_URL": f"sqlite:///{tmp}/mimic.db",
               "REDIS_PREFIX": f"bench-hostile-{os.getpid()}", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=tmp, check=True,
                       capture_output=True)
        web = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--port", str(port)], env=env, cwd=tmp,
                               start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=300)) as session:
                for _ in range(300):
                    try:
                        async with session.get(f"{base}/healthz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                await (await session.get(f"{base}/trace")).read()  # the first page: templates, imports
                before = _memory(web.pid)
                started = time.perf_counter()
                results = await asyncio.gather(*(_trace(session, base, png) for _ in range(args.concurrent)))
                took = time.perf_counter() - started
                after = _memory(web.pid)
        finally:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
    print(f"{args.concurrent} concurrent traces of a flat {args.width}x{args.height} PNG ({len(png) / 1024:.0f} KiB)")
    print(f"statuses {[status for status, _ in results]}, each {', '.join(f'{s:.1f} s' for _, s in results)}, "
          f"all in {took:.1f} s")
    print(f"mimic web RSS before: {before['VmRSS'] / 1024:.0f} MiB; peak (VmHWM) during: {after['VmHWM'] / 1024:.0f} "
          f"MiB; after: {after['VmRSS'] / 1024:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
