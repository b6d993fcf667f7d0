"""Image work with bounded memory (issue 17, row 1): a 40 MP single-colour PNG (about 130 KB, inside every limit) on
the trace form took `mimic web` from 155 MB to 1.85 GB, two at once 3.4-3.7 GB. Decoding is now reduced and every
image job of the process shares one pool with a memory budget."""
from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from PIL import Image

from data.context import ImageWork
from verification.imaging import decode_cost, load_image

ROOT = Path(__file__).resolve().parents[2]


def test_two_concurrent_40mp_traces_stay_within_budget(redis_url):
    """The attack as reported, against a real `mimic web` process, its peak RSS read from /proc (VmHWM)."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "hostile_trace.py"), "--concurrent", "2"],
                            env={**os.environ, "REDIS_URL": redis_url}, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stderr
    assert "statuses [200, 200]" in result.stdout, result.stdout
    before, peak = map(int, re.search(r"before: (\d+) MiB; peak \(VmHWM\) during: (\d+) MiB", result.stdout).groups())
    # the default budget is 512 MiB of image work; before the fix the peak was over 3 GiB
    assert peak - before < 600, result.stdout


async def test_image_work_keeps_jobs_within_its_memory_budget():
    work = ImageWork(budget_bytes=100, threads=4)
    running, most = [0], [0]
    lock = threading.Lock()

    def job():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return "done"

    try:
        results = await asyncio.gather(*(work.run(job, cost=60) for _ in range(4)))  # 60 + 60 > 100: one at a time
        assert results == ["done"] * 4 and most[0] == 1
        most[0] = 0
        await asyncio.gather(*(work.run(job, cost=30) for _ in range(6)))  # three fit at once, never four
        assert most[0] == 3
        assert await work.run(job, cost=10**12) == "done"  # more than the whole budget: runs alone, never stuck
    finally:
        work.close()


def test_big_images_are_decoded_reduced():
    big = Image.new("RGB", (8000, 5000), (10, 20, 30))
    jpeg, png = io.BytesIO(), io.BytesIO()
    big.save(jpeg, "JPEG", quality=80)
    big.save(png, "PNG")
    for data in (jpeg.getvalue(), png.getvalue()):
        assert max(load_image(data, max_side=2048).size) == 2048
    # a JPEG is decoded at 1/2 scale by draft (both sides still >= 2048), a PNG whole: its cost says so
    assert decode_cost(jpeg.getvalue(), max_side=2048) == 4000 * 2500 * 7
    assert decode_cost(png.getvalue(), max_side=2048) == 8000 * 5000 * 7
    assert decode_cost(b"not an image") == 0
