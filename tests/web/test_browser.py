"""The gallery in a real browser: Debian's headless Chromium, driven by selenium, against a populated database.

The server runs in a thread of its own (its own event loop) for the whole module; the browser is started once.
Assertions are on what a person sees: visible text, images that actually decoded, tombstones, the Japanese page.
Screenshots go to test-artifacts/web/."""
from __future__ import annotations

import asyncio
import importlib.util
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from aiohttp import web
from PIL import Image

from bot.core.app import Actor, Core
from bot.core.moderation import open_reports
from bot.web.security import Limit
from bot.web.server import WebLimits, build_web_app
from engine.queue import JobQueue
from tests.web import chromium
from tests.web.gallery_seed import gallery_context, gallery_settings, seed_gallery

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
HAS_TRACE = importlib.util.find_spec("engine.trace") is not None
REPORT_BURST = 4
WAIT_S = 30  # generous: the CI machine has two cores and other suites may be running beside this one

pytestmark = pytest.mark.skipif(not chromium.available(), reason=chromium.MISSING)


@dataclass
class Live:
    base: str
    core: Core
    seeded: object
    run: Callable  # run a coroutine on the server's loop and wait for it


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = gallery_context(gallery_settings(tmp_path_factory.mktemp("web-live"), max_upload_bytes=512 * 1024))
    seeded = seed_gallery(app)
    core = Core(app=app, queue=JobQueue(app.redis_url, app.settings.redis_prefix), providers={})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="gallery-server", daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    async def start() -> tuple[web.AppRunner, int]:
        limits = WebLimits(report=Limit(capacity=REPORT_BURST, per_second=1e-6), trace=Limit(20, 1e-6))
        runner = web.AppRunner(build_web_app(core, limits=limits))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner, runner.addresses[0][1]
    runner, port = run(start())
    yield Live(base=f"http://127.0.0.1:{port}", core=core, seeded=seeded, run=run)
    run(runner.cleanup())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()
    app.db.dispose()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium.start(tmp_path_factory.mktemp("chromium-profile"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


# helpers ------------------------------------------------------------------------------------------------------


def visit(driver, live: Live, path: str) -> str:
    driver.get(live.base + path)
    return main_text(driver)


def main_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "main").text


def images(driver) -> list[dict]:
    """Every <img> in the page once loaded: its address and whether it decoded to real pixels."""
    return driver.execute_script("""
        return Array.from(document.images).map(i => ({src: i.getAttribute('src'), alt: i.alt,
                                                    complete: i.complete, width: i.naturalWidth}));""")


def assert_images_loaded(driver, at_least: int) -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S).until(lambda d: all(i["complete"] for i in images(d)))
    found = images(driver)
    assert len(found) >= at_least, found
    broken = [i for i in found if i["width"] == 0 or not i["alt"].strip()]
    assert not broken, broken
    return found


def screenshot(driver, name: str, *, full_page: bool = True) -> Path:
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        width = driver.get_window_size()["width"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height + 120, 600), 4000))
        driver.save_screenshot(str(path))
        driver.set_window_size(width, 900)
    else:
        driver.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def submit_report(driver, reason: str) -> str:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, "reason")
    assert driver.find_element(By.CSS_SELECTOR, "label[for=reason]").text == "What is wrong?"
    field.send_keys(reason)
    return click_and_wait(driver, "#report button[type=submit]")


def click_and_wait(driver, selector: str) -> str:
    """Click a submit button and wait until the answer page has replaced this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from selenium.common.exceptions import WebDriverException

    old = driver.find_element(By.TAG_NAME, "main")
    driver.find_element(By.CSS_SELECTOR, selector).click()

    def replaced(d) -> bool:
        try:
            return expected_conditions.staleness_of(old)(d)
        except WebDriverException as exc:  # Chromium's way of saying the node has left the document
            if "does not belong to the document" in str(exc):
                return True
            raise
    WebDriverWait(driver, WAIT_S).until(replaced)
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return main_text(driver)


def moderator_queue(live: Live):
    return live.run(open_reports(live.core, Actor(user_id=1, is_moderator=True), limit=200))


# pages --------------------------------------------------------------------------------------------------------


def test_home_and_makers_list(browser, live):
    from selenium.webdriver.common.by import By

    text = visit(browser, live, "/")
    assert "Latest images" in text and "aoi-style" in text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert_images_loaded(browser, 8)
    screenshot(browser, "home")

    problems = [e["message"] for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not problems, problems  # no CSP violation, no failed load (favicon included)

    browser.find_element(By.LINK_TEXT, "Makers").click()
    text = main_text(browser)
    for name in ("aoi-style", "ren-pastel", "ren-closed", "aoi-wip", "kai-old", "kai-banned"):
        assert name in text
    assert "ren-hidden" not in text and "aoi-draft" not in text
    assert "Commercial use" in text and "Personal use" in text and "Artist only" in text and "Training" in text
    tombstones = browser.find_elements(By.CSS_SELECTOR, "main .tombstone")
    assert [t.text.splitlines()[0] for t in tombstones] == ["Withdrawn", "Withdrawn"]
    shown = assert_images_loaded(browser, 4)
    assert not any(live.seeded.blobs["kai-old.sample"] in i["src"] for i in shown)
    screenshot(browser, "makers")


def test_maker_page_shows_samples_training_images_and_the_verified_account(browser, live):
    from selenium.webdriver.common.by import By

    text = visit(browser, live, "/makers/aoi-style")
    assert "by Aoi Sato" in text and "Commercial use" in text and "Training images" in text
    assert "Every image this maker was trained on" in text
    account = browser.find_element(By.CSS_SELECTOR, "a.account")
    assert account.get_attribute("href") == "https://x.com/aoi_draws" and "aoi_draws" in account.text
    training = browser.find_elements(By.CSS_SELECTOR, "ul.training img")
    assert len(training) == 3
    assert_images_loaded(browser, 5)
    screenshot(browser, "maker-aoi-style")

    text = visit(browser, live, "/makers/ren-closed")
    assert "Artist only" in text and "does not publish its training images" in text
    assert not browser.find_elements(By.CSS_SELECTOR, "ul.training img")

    text = visit(browser, live, "/makers/kai-old")
    assert "The artist revoked this maker. Its images are no longer shown." in text
    assert images(browser) == [] and "Revoked" in text
    screenshot(browser, "maker-revoked")


def test_generations_and_remakes_with_pagination(browser, live):
    from selenium.webdriver.common.by import By

    text = visit(browser, live, "/generations")
    assert "Page 1" in text and "This image was taken down." in text and "The artist revoked this maker" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "ul.grid > li")) == 24
    assert_images_loaded(browser, 20)
    screenshot(browser, "generations")
    browser.find_element(By.PARTIAL_LINK_TEXT, "Next").click()
    text = main_text(browser)
    assert "Page 2" in text and "Next" not in text and browser.current_url.endswith("/generations?page=2")
    assert len(browser.find_elements(By.CSS_SELECTOR, "ul.grid > li")) == 6
    assert "an old picture" not in text  # prompts are on the image pages; cards carry maker and artist
    assert_images_loaded(browser, 4)

    text = visit(browser, live, "/remakes")
    assert text.count("Remake") >= 3 and "ren-pastel" in text and "aoi-style" in text
    shown = assert_images_loaded(browser, 2)
    assert not any(live.seeded.blobs["remake.source"] in i["src"] for i in shown)
    screenshot(browser, "remakes")

    browser.set_window_size(390, 844)  # a phone
    try:
        visit(browser, live, "/generations")
        columns = browser.execute_script(
            "return getComputedStyle(document.querySelector('ul.grid')).gridTemplateColumns.split(' ').length")
        assert columns == 2
        overflow = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow
        screenshot(browser, "generations-phone", full_page=False)
    finally:
        browser.set_window_size(1280, 900)


def test_artists_list(browser, live):
    from selenium.webdriver.common.by import By

    text = visit(browser, live, "/artists")
    assert "Aoi Sato" in text and "Ren" in text and "Kai" in text and "Unverified Person" not in text
    links = {a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".artist .accounts a")}
    assert links == {"https://x.com/aoi_draws", "https://bsky.app/profile/ren.bsky.social",
                     "https://example.social/@kai"}
    assert "ren-hidden" not in text and "kai-old" not in text
    screenshot(browser, "artists")


def test_image_page_and_a_report_reaching_the_moderators(browser, live):

    gen_id = live.seeded.gens["traced"]
    text = visit(browser, live, f"/g/{gen_id}")
    assert f"Image #{gen_id}" in text
    # the artist's public credit (data.credit): the verified handle, as on the image and in Discord
    assert "Style of @aoi_draws, maker aoi-style" in text and "a girl with a red umbrella in the rain" in text
    assert str(0x5A_1234_5678) in text and "The requester cannot delete this image until" in text
    shown = assert_images_loaded(browser, 1)
    assert shown[0]["width"] >= 256 and "Aoi Sato" in shown[0]["alt"]
    screenshot(browser, "image-page")

    text = submit_report(browser, "Looks like a copy of another artist's character.")
    assert browser.current_url.endswith(f"/g/{gen_id}?reported=1#report")
    assert "Thank you. Your report is in the moderators' review queue." in text
    screenshot(browser, "image-page-reported")
    filed = [r for r in moderator_queue(live) if r.source == "web" and r.target_id == gen_id]
    assert [(r.target_kind, r.reason) for r in filed] == [
        ("generation", "Looks like a copy of another artist's character.")]

    text = visit(browser, live, f"/g/{live.seeded.gens['down']}")
    assert "This image was taken down." in text and images(browser) == []
    assert "something that was taken down" not in text
    screenshot(browser, "image-tombstone")
    text = visit(browser, live, f"/g/{live.seeded.gens['old']}")
    assert "The 48-hour lock ended on" in text


def test_japanese_pages(browser, live):
    from selenium.webdriver.common.by import By

    visit(browser, live, "/makers/aoi-style")
    browser.find_element(By.CSS_SELECTOR, "a.lang").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    text = main_text(browser)
    assert "作者：Aoi Sato" in text and "商用利用可" in text and "学習画像" in text
    assert_images_loaded(browser, 5)
    screenshot(browser, "maker-ja")
    text = visit(browser, live, f"/g/{live.seeded.gens['down']}")  # the choice is remembered
    assert "この画像は削除されました。" in text
    nav = browser.find_element(By.CSS_SELECTOR, "header nav").text
    assert "メーカー" in nav and "画像を照会" in nav
    browser.find_element(By.CSS_SELECTOR, "a.lang").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_not_found_page(browser, live):
    text = visit(browser, live, "/makers/no-such-maker")
    assert "Not found" in text and "There is nothing at this address." in text
    assert "Traceback" not in browser.page_source
    logged = " ".join(e["message"] for e in browser.get_log("browser"))
    assert "404" in logged  # the console log is really captured (so the clean log on the home page means it)
    screenshot(browser, "not-found")


# forms and their defences -------------------------------------------------------------------------------------


def test_report_without_csrf_token_is_refused(browser, live):
    from selenium.webdriver.common.by import By

    gen_id = live.seeded.gens["old"]
    before = len(moderator_queue(live))
    visit(browser, live, f"/g/{gen_id}")
    browser.execute_script("document.querySelector('#report input[name=csrf]').remove()")
    text = submit_report(browser, "forged")
    assert "This form has expired or did not come from this site." in text
    assert browser.find_element(By.TAG_NAME, "h1").text == "Request refused"
    assert len(moderator_queue(live)) == before
    screenshot(browser, "csrf-refused")


def test_trace_form_refuses_an_oversized_upload(browser, live, tmp_path):
    from selenium.webdriver.common.by import By

    big = tmp_path / "huge.png"
    noise = Image.effect_noise((620, 620), 90).convert("RGB")
    noise.save(big, "PNG")
    assert big.stat().st_size > 512 * 1024
    text = visit(browser, live, "/trace")
    assert "PNG, JPEG, WebP, GIF, BMP or TIFF, up to 512 KB." in text
    browser.find_element(By.ID, "image").send_keys(str(big))
    assert "That file is too large: the limit is 512 KB." in click_and_wait(browser, "main form button[type=submit]")
    screenshot(browser, "trace-too-big")


@pytest.mark.skipif(not HAS_TRACE, reason="engine.trace (trace_image) is not written yet: only the refusal "
                                          "paths of the trace form are tested")
def test_trace_form_finds_a_copy_and_says_so_for_an_unmarked_image(browser, live, tmp_path):
    from selenium.webdriver.common.by import By

    from verification.synthetic import draw_illustration

    copy = tmp_path / "seen-elsewhere.jpg"  # re-encoded as a JPEG, as copies on the web usually are
    Image.open(io.BytesIO(live.seeded.traced_png)).convert("RGB").save(copy, "JPEG", quality=88)
    visit(browser, live, "/trace")
    browser.find_element(By.ID, "image").send_keys(str(copy))
    text = click_and_wait(browser, "main form button[type=submit]")
    assert "This image was made here." in text and "Aoi Sato" in text and str(0x5A_1234_5678) in text
    assert_images_loaded(browser, 1)
    screenshot(browser, "trace-found")
    browser.find_element(By.LINK_TEXT, "Open its page").click()
    assert browser.current_url.endswith(f"/g/{live.seeded.gens['traced']}")

    plain = tmp_path / "unmarked.png"
    draw_illustration(42, (300, 300)).save(plain)
    visit(browser, live, "/trace")
    browser.find_element(By.ID, "image").send_keys(str(plain))
    assert "No mimic watermark" in click_and_wait(browser, "main form button[type=submit]")
    screenshot(browser, "trace-not-found")


def test_report_rate_limit_in_the_browser(browser, live):
    gen_id = live.seeded.gens["remake"]
    for attempt in range(REPORT_BURST + 1):
        visit(browser, live, f"/g/{gen_id}")
        text = submit_report(browser, f"report number {attempt}")
        if "Too many requests" in text:
            break
    else:
        pytest.fail("the report form was never rate limited")
    assert "Please wait a minute and try again." in text
    screenshot(browser, "rate-limited")
    queued = [r for r in moderator_queue(live) if r.source == "web"]
    assert len(queued) <= REPORT_BURST


# how pages travel: previews, feed and API against the page a person sees ---------------------------------------


def _tags(driver) -> dict[str, str]:
    return driver.execute_script("""
        const found = {};
        for (const m of document.querySelectorAll('meta[property], meta[name]'))
            found[m.getAttribute('property') || m.getAttribute('name')] = m.content;
        for (const l of document.querySelectorAll('link[rel=alternate]')) found[l.type] = l.href;
        return found;""")


def _from_public(live: Live, url: str) -> str:
    """A public_url address (what previews, feeds and the API print) on the server under test."""
    public = live.core.settings.public_url.rstrip("/")
    assert url.startswith(public + "/"), url
    return live.base + url[len(public):]


def _fetch(live: Live, url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(_from_public(live, url), timeout=WAIT_S) as response:
        return response.read()


def test_link_preview_and_api_describe_the_image_page_as_seen(browser, live):
    import json

    from selenium.webdriver.common.by import By

    gen_id = live.seeded.gens["traced"]
    text = visit(browser, live, f"/g/{gen_id}")
    tags = _tags(browser)
    shown = [i for i in assert_images_loaded(browser, 1) if i["src"].startswith("/img/")]
    assert [_from_public(live, tags["og:image"])] == [live.base + i["src"] for i in shown]
    credit = browser.find_element(By.CSS_SELECTOR, "dl.facts dd").text  # the credit line the page shows
    assert "@aoi_draws" in credit and "@aoi_draws" in tags["og:title"] and "@aoi_draws" in tags["twitter:title"]
    usage = browser.find_element(By.CSS_SELECTOR, "dl.facts .badge").text
    assert usage == "Commercial use" and tags["og:description"].startswith(usage)
    assert tags["twitter:card"] == "summary_large_image" and tags["twitter:image"] == tags["og:image"]
    screenshot(browser, "image-with-preview")

    api = json.loads(_fetch(live, f"{live.core.settings.public_url}/api/v1/generations/{gen_id}"))
    assert api["prompt"] in text and str(api["trace_id"]) in text
    assert api["images"] == [tags["og:image"]] and api["url"] == tags["og:url"]
    embed = json.loads(_fetch(live, tags["application/json+oembed"]))
    assert embed["type"] == "photo" and embed["url"] == tags["og:image"] and embed["title"] == tags["og:title"]


def test_maker_feed_lists_the_images_its_page_shows(browser, live):
    from defusedxml import ElementTree as SafeET
    from selenium.webdriver.common.by import By

    visit(browser, live, "/makers/aoi-style")
    tags = _tags(browser)
    assert "og:image" in tags and "aoi-style" in tags["og:title"]
    samples = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main ul.grid:not(.training) a")]
    made = {s.removeprefix(live.base) for s in samples if "?g=" in s}
    assert made and tags["og:image"].removeprefix(live.core.settings.public_url.rstrip("/")) in made
    feed_link = browser.find_element(By.CSS_SELECTOR, "p.by a[type='application/atom+xml']").get_attribute("href")
    assert feed_link == live.base + "/makers/aoi-style/feed.atom" and tags["application/atom+xml"].endswith(
        "/makers/aoi-style/feed.atom")
    feed = SafeET.fromstring(_fetch(live, tags["application/atom+xml"]))
    atom = "{http://www.w3.org/2005/Atom}"
    enclosures = {_from_public(live, e.get("href")).removeprefix(live.base)
                  for e in feed.iter(f"{atom}link") if e.get("rel") == "enclosure"}
    assert made <= enclosures  # every image of the maker the page shows is in its feed
    entry = feed.find(f"{atom}entry")
    browser.get(_from_public(live, entry.findtext(f"{atom}id")))  # an entry leads to the image's page
    assert entry.findtext(f"{atom}title") == _tags(browser)["og:title"]


def test_artist_page_with_its_preview(browser, live):
    from selenium.webdriver.common.by import By

    text = visit(browser, live, "/artists")
    browser.find_element(By.LINK_TEXT, "Aoi Sato").click()
    text = main_text(browser)
    assert "@aoi_draws" in text and "aoi-style" in text and "Latest images" in text
    assert_images_loaded(browser, 2)
    tags = _tags(browser)
    assert tags["og:title"] == "@aoi_draws on mimic gallery" and tags["og:type"] == "profile"
    assert "aoi-style (Commercial use)" in tags["og:description"]
    screenshot(browser, "artist")
