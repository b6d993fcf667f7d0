"""The fake Discord's OAuth2 endpoints keep the documented contract
(https://discord.com/developers/docs/topics/oauth2; RFC 6749 §4.1, §5.2; RFC 7636): what our sign-in relies on
being refused is refused."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from tests.fakes.discord_server import FakeDiscord

REDIRECT = "http://127.0.0.1:9/signin/callback"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def _code(http: aiohttp.ClientSession, discord: FakeDiscord, verifier: str, **extra) -> str:
    query = {"response_type": "code", "client_id": discord.oauth.client_id, "scope": "identify", "state": "s1",
             "redirect_uri": REDIRECT, "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
             **extra}
    async with http.post(f"{discord.base_url}/oauth2/authorize", data={**query, "decision": "approve"},
                         allow_redirects=False) as answer:
        assert answer.status == 302
        back = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert back["state"] == "s1"
    return back["code"]


async def _token(http, discord, form, *, basic=True, as_json=False):
    auth = aiohttp.BasicAuth(discord.oauth.client_id, discord.oauth.client_secret) if basic else None
    kwargs = {"json": form} if as_json else {"data": form}
    async with http.post(f"{discord.api_base}/oauth2/token", auth=auth, **kwargs) as answer:
        return answer.status, await answer.json()


async def test_the_code_grant_with_pkce():
    async with FakeDiscord() as discord, aiohttp.ClientSession() as http:
        discord.oauth.redirect_uris = [REDIRECT]
        discord.oauth.browser_user = "artist"
        verifier = "v" * 50
        code = await _code(http, discord, verifier)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        assert (await _token(http, discord, form, as_json=True))[1]["error"] == "invalid_request"  # form only
        status, wrong = await _token(http, discord, {**form, "code_verifier": "w" * 50})
        assert status == 400 and wrong["error"] == "invalid_grant"
        status, reused = await _token(http, discord, form)  # the failed try used the code up
        assert status == 400 and reused["error"] == "invalid_grant"

        code = await _code(http, discord, verifier)
        status, bad_client = await _token(http, discord, {**form, "code": code}, basic=False)
        assert status == 401 and bad_client["error"] == "invalid_client"  # no client named at all
        code = await _code(http, discord, verifier)
        status, token = await _token(http, discord, {**form, "code": code})
        assert status == 200 and token["token_type"] == "Bearer" and token["scope"] == "identify"
        async with http.get(f"{discord.api_base}/users/@me",
                            headers={"Authorization": f"Bearer {token['access_token']}"}) as me:
            user = await me.json()
        assert user["id"] == str(discord.user("artist").id) and user["username"] == "artist"
        async with http.get(f"{discord.api_base}/users/@me", headers={"Authorization": "Bearer nope"}) as me:
            assert me.status == 401


async def test_unknown_redirects_are_never_followed():
    async with FakeDiscord() as discord, aiohttp.ClientSession() as http:
        discord.oauth.redirect_uris = [REDIRECT]
        discord.oauth.browser_user = "artist"
        query = {"response_type": "code", "client_id": discord.oauth.client_id, "scope": "identify",
                 "redirect_uri": "https://evil.example/callback", "state": "s"}
        async with http.get(f"{discord.base_url}/oauth2/authorize", params=query, allow_redirects=False) as page:
            assert page.status == 400 and "redirect_uri" in await page.text()
        async with http.get(f"{discord.base_url}/oauth2/authorize", params={**query, "redirect_uri": REDIRECT,
                            "code_challenge": "x", "code_challenge_method": "plain"}, allow_redirects=False) as page:
            assert page.status == 302 and "error=invalid_request" in page.headers["Location"]
