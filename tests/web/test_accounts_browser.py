"""The artist's control room in a real browser (Debian's headless Chromium, tests/web/chromium.py): sign in with
Discord through the local Discord-compatible server's consent page, edit a maker's usage scope, revoke it (its
images become tombstones), export the data (the zip holds the JSON and the images) and delete the account; another
person gets 403 on the owner's pages. Screenshots go to test-artifacts/web/."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import zipfile

import pytest

from data.models import Maker, User
from tests.web import chromium
from tests.web.accounts_world import person_id, start_world
from tests.web.test_browser import ARTIFACTS, WAIT_S, assert_images_loaded, click_and_wait, main_text

pytestmark = pytest.mark.skipif(not chromium.available(), reason=chromium.MISSING)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import redis

    from tests.web.gallery_seed import REDIS_URL

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        pytest.skip(f"no Redis server at {REDIS_URL}")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="accounts-server", daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)
    world = run(start_world(tmp_path_factory.mktemp("accounts-live")))
    yield world
    run(world.close())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium.start(tmp_path_factory.mktemp("chromium-accounts"))
    downloads = tmp_path_factory.mktemp("downloads")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _sign_in(browser, world, who: str) -> str:
    from selenium.webdriver.common.by import By

    world.discord.oauth.browser_user = who
    browser.get(world.base + "/")
    browser.find_element(By.ID, "signin").click()
    _wait_for(lambda: browser.current_url.startswith(world.discord.base_url), "Discord's consent page")
    assert "wants to access your Discord account" in browser.find_element(By.TAG_NAME, "body").text
    browser.find_element(By.ID, "authorize").click()
    _wait_for(lambda: browser.current_url == world.base + "/me", "the way back to /me")
    return main_text(browser)


def test_artist_signs_in_edits_revokes_exports_and_deletes(browser, world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seeded, db = world.seeded, world.core.app.db
    text = _sign_in(browser, world, "artist")
    assert "Signed in as Artist" in text and "aoi-style" in text and "ren-pastel" not in text
    browser.save_screenshot(str(ARTIFACTS / "me.png"))

    browser.find_element(By.LINK_TEXT, "aoi-style").click()
    _wait_for(lambda: browser.current_url.endswith("/me/makers/aoi-style"), "the maker's control room")
    assert_images_loaded(browser, 3)  # training images and the images made with it, served to their owner
    text = main_text(browser)
    assert "a girl with a red umbrella in the rain" in text and "Asked by: A fan" in text
    Select(browser.find_element(By.ID, "usage")).select_by_value("personal")
    Select(browser.find_element(By.ID, "visibility")).select_by_value("unlisted")
    assert "Saved." in click_and_wait(browser, "#save")
    with db.session() as s:
        maker = s.get(Maker, seeded.makers["aoi-style"])
        assert (maker.usage, maker.visibility) == ("personal", "unlisted")

    browser.find_element(By.ID, "revoke").click()
    _wait_for(lambda: browser.current_url.endswith("/revoke"), "the confirmation")
    assert "This cannot be undone" in main_text(browser)
    browser.find_element(By.ID, "confirm-button").click()  # unticked: the browser keeps the form
    assert browser.current_url.endswith("/revoke")
    browser.find_element(By.ID, "confirm").click()
    assert "Revoked: the maker is off" in click_and_wait(browser, "#confirm-button")
    browser.get(f"{world.base}/g/{seeded.gens['traced']}")
    assert browser.find_elements(By.CSS_SELECTOR, ".tombstone")  # its images are tombstones now
    assert not browser.find_elements(By.CSS_SELECTOR, f"img[src*='{seeded.blobs['traced.image']}']")

    browser.get(world.base + "/me")
    assert "Your export has started" in click_and_wait(browser, "#export")  # a worker builds it
    # the page reloads itself every 2 s while the export is under way (a refresh to /me, without the fragment:
    # a same-document navigation would not reload)
    _wait_for(lambda: browser.find_elements(By.ID, "download"), "the export to be built")
    assert "Your export is ready" in browser.find_element(By.ID, "export-status").text
    browser.find_element(By.ID, "download").click()
    done = _wait_for(lambda: [p for p in browser.downloads.glob("mimic-export-*.zip")], "the export download")
    _wait_for(lambda: not list(browser.downloads.glob("*.crdownload")), "the download to finish")
    with zipfile.ZipFile(done[0]) as zf:
        doc = json.loads(zf.read("data.json"))
        assert doc["user"]["id"] == person_id(world, "aoi")
        assert {m["name"] for m in doc["makers"]} == {"aoi-style", "aoi-wip", "aoi-draft"}
        sample = seeded.blobs["aoi-style.train0"]
        assert zf.read(doc["images"][sample]) == world.core.app.blobs.get(sample)

    browser.find_element(By.ID, "delete-account").click()
    _wait_for(lambda: browser.current_url.endswith("/me/delete"), "the delete page")
    text = main_text(browser)
    assert "Kept, because moderation needs it" in text and "registry fingerprints of your works" in text
    browser.save_screenshot(str(ARTIFACTS / "me-delete.png"))
    browser.find_element(By.ID, "confirm").click()
    assert "Your account is deleted and you are signed out." in click_and_wait(browser, "#confirm-button")
    assert not browser.find_elements(By.ID, "signout")
    with db.session() as s:
        user = s.get(User, person_id(world, "aoi"))
        assert user.erased_at is not None and user.display_name == ""
    assert not world.core.app.blobs.exists(seeded.blobs["aoi-style.train0"])


def test_someone_else_gets_403_on_the_owners_pages(browser, world):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    text = _sign_in(browser, world, "fan")
    assert "My requests" in text and "ren-pastel" not in text.split("My requests")[0]
    browser.get(f"{world.base}/me/makers/ren-pastel")
    assert "only its owner can see or change it" in main_text(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not yours"
    browser.get(f"{world.base}/me/makers/ren-pastel?lang=ja")
    assert "持ち主だけ" in main_text(browser)
