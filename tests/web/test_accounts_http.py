"""Sign in with Discord and the owner pages over plain HTTP: the real OAuth2 flow (PKCE, state) against the local
Discord-compatible server, the session cookie, 403 for everyone but the owner on every owner page and action, CSRF
and rate limits, and that a signed-in page never shows another person's private data."""
from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlmodel import select
from yarl import URL

from bot.web.security import Limit
from data.models import AuditEvent, Generation, Maker, User
from tests.web.accounts_world import (approve_on_discord, browser_session, person_id, sign_in, start_world,
                                      wait_for_export)


@pytest.fixture
async def world(tmp_path, redis_url):
    world = await start_world(tmp_path)
    yield world
    await world.close()


async def _token(session, url: str) -> str:
    async with session.get(url) as page:
        return re.search(r'name="csrf" value="([0-9a-f]+)"', await page.text()).group(1)


async def test_sign_in_runs_the_code_flow_with_pkce_and_state(world):
    async with browser_session() as browser:
        answer = await sign_in(world, browser, "artist")
        assert answer.status == 303 and answer.headers["Location"] == "/me"
        cookie = next(v for k, v in answer.headers.items() if k == "Set-Cookie" and "mimic_session=" in v)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        [asked] = world.discord.oauth.authorize_requests[-1:]
        assert asked["scope"] == "identify" and asked["response_type"] == "code"
        assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43 and asked["state"]
        assert asked["redirect_uri"] == f"{world.base}/signin/callback"
        [exchange] = world.discord.oauth.token_requests
        assert exchange["grant_type"] == "authorization_code" and exchange["basic_auth"]
        assert 43 <= len(exchange["code_verifier"]) <= 128
        async with browser.get(f"{world.base}/me") as me:
            page = await me.text()
            assert me.status == 200 and "Signed in as Artist" in page and "aoi-style" in page
        async with browser.post(f"{world.base}/signout", data={"csrf": "0" * 64}, allow_redirects=False) as forged:
            assert forged.status == 403  # a cross-site page cannot sign people out
        async with browser.get(f"{world.base}/me", allow_redirects=False) as me:
            assert me.status == 200
        token = await _token(browser, f"{world.base}/me")
        async with browser.post(f"{world.base}/signout", data={"csrf": token}, allow_redirects=False) as out:
            assert out.status == 303
        async with browser.get(f"{world.base}/me", allow_redirects=False) as me:
            assert me.status == 303 and me.headers["Location"].startswith("/signin")


async def test_a_callback_whose_state_is_not_ours_is_refused(world):
    async with browser_session() as victim, browser_session() as attacker:
        # the attacker starts a sign-in, approves it as themself and hands the callback link to the victim
        async with attacker.get(f"{world.base}/signin", allow_redirects=False) as start:
            back = await approve_on_discord(world, start.headers["Location"], "fan")
        async with victim.get(back, allow_redirects=False) as answer:
            assert answer.status == 400 and "did not start here" in await answer.text()
        assert not world.discord.oauth.token_requests  # the code was never exchanged
        # a forged state on the attacker's own flow fails too
        query = dict(parse_qsl(urlsplit(back).query))
        async with attacker.get(f"{world.base}/signin/callback", params={**query, "state": "x" * 32},
                                allow_redirects=False) as answer:
            assert answer.status == 400
        # cancelling on Discord is said politely
        async with attacker.get(f"{world.base}/signin", allow_redirects=False) as start:
            back = await approve_on_discord(world, start.headers["Location"], "fan", decision="cancel")
        async with attacker.get(back, allow_redirects=False) as answer:
            assert answer.status == 400 and "cancelled" in await answer.text()


async def test_a_forged_or_tampered_session_cookie_signs_nobody_in(world):
    async with browser_session() as browser:
        await sign_in(world, browser, "fan")
        cookie = next(c for c in browser.cookie_jar if c.key == "mimic_session")
        body, sig = cookie.value.split(".")
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["u"] = person_id(world, "aoi")
        forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    for value in (f"{forged}.{sig}", f"{body}.{'0' * 64}", "garbage", f"{body}"):
        async with browser_session() as forger:
            forger.cookie_jar.update_cookies({"mimic_session": value}, response_url=URL(world.base))
            async with forger.get(f"{world.base}/me/makers/aoi-style", allow_redirects=False) as page:
                assert page.status == 303, value  # not signed in at all
    async with browser_session() as honest:  # the untouched cookie is the fan's
        honest.cookie_jar.update_cookies({"mimic_session": f"{body}.{sig}"}, response_url=URL(world.base))
        async with honest.get(f"{world.base}/me/makers/aoi-style", allow_redirects=False) as page:
            assert page.status == 403


OWNER_GETS = ("/me/makers/aoi-style", "/me/makers/aoi-style/revoke", "/me/makers/aoi-draft")


async def test_every_owner_page_and_action_is_403_for_someone_else(world):
    seeded = world.seeded
    async with browser_session() as fan:
        await sign_in(world, fan, "fan")
        for path in OWNER_GETS:
            async with fan.get(world.base + path, allow_redirects=False) as page:
                assert page.status == 403, path
                assert "only its owner" in await page.text()
        token = await _token(fan, f"{world.base}/me")
        for path, form in (("/me/makers/aoi-style/settings", {"usage": "commercial", "visibility": "private"}),
                           ("/me/makers/aoi-style/revoke", {"confirm": "yes"}),
                           (f"/me/requests/{seeded.gens['of-private']}/withdraw", {})):
            async with fan.post(world.base + path, data={"csrf": token, **form}, allow_redirects=False) as answer:
                # the fan did ask for of-private: withdrawing it is theirs, but its lock still holds (400)
                assert answer.status in (403, 400), path
                if "requests" not in path:
                    assert answer.status == 403, path
        for key, where in (("aoi-style.train0", f"m={seeded.makers['aoi-style']}"),
                           ("ren-hidden.train0", f"m={seeded.makers['ren-hidden']}")):
            async with fan.get(f"{world.base}/me/img/{seeded.blobs[key]}?{where}") as image:
                assert image.status == 403, key
    async with browser_session() as ren:
        await sign_in(world, ren, "ren")
        token = await _token(ren, f"{world.base}/me")
        async with ren.post(f"{world.base}/me/requests/{seeded.gens['old']}/withdraw", data={"csrf": token},
                            allow_redirects=False) as answer:
            assert answer.status == 403  # the fan's request, not ren's
    with world.core.app.db.session() as s:
        maker = s.get(Maker, seeded.makers["aoi-style"])
        assert (maker.status, maker.usage, maker.visibility) == ("ready", "commercial", "public")
        assert not s.get(Generation, seeded.gens["old"]).taken_down
    async with browser_session() as nobody:
        for path in OWNER_GETS + ("/me", "/me/delete"):
            async with nobody.get(world.base + path, allow_redirects=False) as page:
                assert page.status == 303 and page.headers["Location"].startswith("/signin?next=/me"), path
        token = await _token(nobody, f"{world.base}/trace")
        for path in ("/me/makers/aoi-style/settings", "/me/makers/aoi-style/revoke", "/me/export", "/me/delete"):
            async with nobody.post(world.base + path, data={"csrf": token, "confirm": "yes"}) as answer:
                assert answer.status == 403, path


async def test_signed_in_pages_show_only_the_persons_own_data(world):
    async with browser_session() as ren:
        await sign_in(world, ren, "ren")
        page = await (await ren.get(f"{world.base}/me")).text()
        assert "ren-hidden" in page and "ren-pastel" in page  # ren's own, the private one too
        assert "aoi-style" not in page and "aoi-wip" not in page and "kai-old" not in page
        assert "a girl with a red umbrella" not in page  # the fan's prompt on someone else's maker
    async with browser_session() as artist:
        await sign_in(world, artist, "artist")
        page = await (await artist.get(f"{world.base}/me/makers/aoi-style")).text()
        # every image made with the artist's maker, with requester and prompt, newest first, and reports
        assert page.index("remake of my cat drawing") < page.index("a girl with a red umbrella") \
            < page.index("an old picture, lock expired")
        assert "A fan" in page and "already reported from Discord" in page
        assert "private maker output" not in page and "ren-hidden" not in page  # ren's private maker
        me = await (await artist.get(f"{world.base}/me")).text()
        assert "ren-hidden" not in me and "remake in pastel" not in me


async def test_owner_edits_scope_revokes_exports_and_deletes(world):
    seeded = world.seeded
    async with browser_session() as artist:
        await sign_in(world, artist, "artist")
        token = await _token(artist, f"{world.base}/me/makers/aoi-style")
        async with artist.post(f"{world.base}/me/makers/aoi-style/settings", data={"usage": "bogus"}) as refused:
            assert refused.status == 403  # no CSRF token
        async with artist.post(f"{world.base}/me/makers/aoi-style/settings",
                               data={"csrf": token, "usage": "personal", "visibility": "unlisted"}) as saved:
            assert saved.status == 200 and "Saved." in await saved.text()
        async with artist.post(f"{world.base}/me/makers/aoi-style/settings",
                               data={"csrf": token, "usage": "everything"}) as bad:
            assert bad.status == 400
        async with artist.post(f"{world.base}/me/makers/aoi-style/revoke", data={"csrf": token},
                               allow_redirects=False) as unconfirmed:
            assert unconfirmed.status == 303 and unconfirmed.headers["Location"].endswith("/revoke")
        async with artist.post(f"{world.base}/me/makers/aoi-style/revoke",
                               data={"csrf": token, "confirm": "yes"}) as revoked:
            assert revoked.status == 200 and "Revoked: the maker is off" in await revoked.text()
        gallery = await (await artist.get(f"{world.base}/g/{seeded.gens['traced']}")).text()
        assert 'class="tombstone' in gallery  # its images are tombstones now
        async with artist.post(f"{world.base}/me/export", data={"csrf": token}, allow_redirects=False) as asked:
            assert asked.status == 303  # a worker builds it; /me follows its progress
        download = await wait_for_export(world, artist)
        async with browser_session() as fan:  # someone else's export: 403
            await sign_in(world, fan, "fan")
            async with fan.get(world.base + download) as theirs:
                assert theirs.status == 403
        async with artist.get(world.base + download) as export:
            assert export.status == 200 and export.headers["Content-Type"] == "application/zip"
            assert "attachment" in export.headers["Content-Disposition"]
            with zipfile.ZipFile(io.BytesIO(await export.read())) as zf:
                doc = json.loads(zf.read("data.json"))
                assert doc["user"]["id"] == person_id(world, "aoi")
                sample = seeded.blobs["aoi-style.train0"]
                assert zf.read(doc["images"][sample]) == world.core.app.blobs.get(sample)
        page = await (await artist.get(f"{world.base}/me/delete")).text()
        assert "registry fingerprints of your works" in page and "2 active maker(s)" in page  # aoi-wip, aoi-draft
        async with artist.post(f"{world.base}/me/delete", data={"csrf": token, "confirm": "yes"}) as deleted:
            text = await deleted.text()
            assert deleted.status == 200 and "Your account is deleted" in text
        async with artist.get(f"{world.base}/me", allow_redirects=False) as after:
            assert after.status == 303
    with world.core.app.db.session() as s:
        user = s.get(User, person_id(world, "aoi"))
        assert user.erased_at is not None and user.display_name == "" and user.discord_id is None
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions == ["maker.settings", "maker.revoke", "user.export", "maker.revoke", "maker.revoke",
                           "user.erase"]  # erase revoked aoi-wip and aoi-draft as well


async def test_owner_forms_are_rate_limited(tmp_path, redis_url):
    world = await start_world(tmp_path, account=Limit(capacity=4, per_second=1e-6))
    try:
        async with browser_session() as artist:
            await sign_in(world, artist, "artist")  # /signin and the callback: two of the four
            token = await _token(artist, f"{world.base}/me/makers/aoi-style")
            statuses = []
            for _ in range(3):
                async with artist.post(f"{world.base}/me/makers/aoi-style/settings",
                                       data={"csrf": token, "usage": "personal"}, allow_redirects=False) as answer:
                    statuses.append(answer.status)
            assert statuses == [303, 303, 429]
    finally:
        await world.close()


async def test_japanese_owner_pages(world):
    async with browser_session() as artist:
        await sign_in(world, artist, "artist")
        page = await (await artist.get(f"{world.base}/me/makers/aoi-style?lang=ja")).text()
        assert "このメーカーで作られたすべての画像" in page and "依頼者" in page
        page = await (await artist.get(f"{world.base}/me/delete?lang=ja")).text()
        assert "アカウントを削除しますか" in page


async def test_a_fan_sees_their_requests_and_withdraws_one_after_the_lock(world):
    seeded = world.seeded
    async with browser_session() as fan:
        await sign_in(world, fan, "fan")
        page = await (await fan.get(f"{world.base}/me")).text()
        assert "a girl with a red umbrella in the rain" in page and "private maker output" in page  # their own
        assert page.count('action="/me/requests/') == 1  # only "old" is past its 48-hour lock
        token = await _token(fan, f"{world.base}/me")
        async with fan.post(f"{world.base}/me/requests/{seeded.gens['traced']}/withdraw",
                            data={"csrf": token}) as locked:
            assert locked.status == 400 and "stay up for 48 hours" in await locked.text()
        async with fan.post(f"{world.base}/me/requests/{seeded.gens['old']}/withdraw", data={"csrf": token}) as done:
            assert done.status == 200 and "The request is withdrawn." in await done.text()
    with world.core.app.db.session() as s:
        assert s.get(Generation, seeded.gens["old"]).taken_down
        assert not s.get(Generation, seeded.gens["traced"]).taken_down
    assert not world.core.app.blobs.exists(seeded.blobs["old.image"])
