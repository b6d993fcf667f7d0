"""Sign in with Discord: the OAuth2 authorization-code grant with PKCE and `state`, scope `identify`.

https://discord.com/developers/docs/topics/oauth2 ("Authorization Code Grant"), RFC 6749 §4.1 and RFC 7636:
  1. GET /signin: a random `state` and PKCE `code_verifier` go into a short-lived signed HttpOnly cookie (Lax: it
     must come back on the top-level redirect from discord.com), and the browser is sent to DISCORD_OAUTH_AUTHORIZE_URL
     with response_type=code, client_id, scope=identify, redirect_uri=<PUBLIC_URL>/signin/callback, state and
     code_challenge=BASE64URL(SHA256(verifier)), code_challenge_method=S256.
  2. GET /signin/callback?code&state: the state must equal the cookie's (a sign-in someone else started is refused),
     the code is exchanged at <DISCORD_API_BASE>/oauth2/token (form-encoded, client_secret_basic when a secret is
     configured, with the code_verifier), and GET <DISCORD_API_BASE>/users/@me with the Bearer token names the person.
     The access token is used once and never stored; the session is a signed cookie (bot/web/sessions.py).
  3. POST /signout (CSRF-protected) clears it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time

import aiohttp
from aiohttp import web
from yarl import URL

from bot.web import forms, i18n, sessions
from bot.web.security import CSRF_FIELD
from bot.web.state import GALLERY
from bot.web.views import csrf_refused, error_page, request_locale, too_many

log = logging.getLogger("mimic.web")
STATE_COOKIE = "mimic_oauth"
STATE_PURPOSE = "oauth-state"
STATE_LIFETIME_S = 600
SCOPE = "identify"
SIGNOUT_MAX_BODY = 4096


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/signin", start)
    router.add_get("/signin/callback", callback)
    router.add_post("/signout", signout)


def _redirect_uri(request: web.Request) -> str:
    return request.app[GALLERY].settings.public_url.rstrip("/") + "/signin/callback"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _unavailable(request: web.Request) -> web.Response:
    locale = request_locale(request)
    return error_page(request, 503, "error.generic.title", i18n.text(locale, "signin.disabled"))


async def _not_now(request: web.Request) -> web.Response | None:
    """Sign-in is off (no client id), or this client asked too often: the answer instead of the flow."""
    g = request.app[GALLERY]
    if not g.settings.discord_client_id:
        return _unavailable(request)
    if not await g.account_limiter.allow(forms.client(request)):
        return await too_many(request, 0)
    return None


async def start(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    settings = g.settings
    if (refused := await _not_now(request)) is not None:
        return refused
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)  # RFC 7636 §4.1: 43–128 characters
    back = str(forms.safe_return(request.query.get("next", "/me")))
    body = json.dumps({"s": state, "v": verifier, "n": back, "e": int(time.time()) + STATE_LIFETIME_S},
                      separators=(",", ":"))
    cookie = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    target = URL(settings.discord_oauth_authorize_url).update_query(
        response_type="code", client_id=settings.discord_client_id, scope=SCOPE, state=state,
        redirect_uri=_redirect_uri(request), code_challenge=_challenge(verifier), code_challenge_method="S256",
        prompt="consent")
    response = web.Response(status=302, headers={"Location": str(target), "Cache-Control": "no-store"})
    response.set_cookie(STATE_COOKIE, f"{cookie}.{g.csrf.sign(STATE_PURPOSE, cookie)}", max_age=STATE_LIFETIME_S,
                        httponly=True, samesite="Lax", secure=g.secure_cookies, path="/signin")
    return response


async def _pending(request: web.Request) -> dict | None:
    raw = request.cookies.get(STATE_COOKIE, "")
    if not raw or len(raw) > 1000 or raw.count(".") != 1:
        return None
    body, signature = raw.split(".")
    if len(signature) != 64 or not await request.app[GALLERY].csrf.signed(STATE_PURPOSE, body, signature):
        return None
    try:
        pending = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return pending if isinstance(pending, dict) and pending.get("e", 0) >= time.time() else None


def _refused(request: web.Request, key: str, status: int = 400) -> web.Response:
    response = error_page(request, status, "error.generic.title", i18n.text(request_locale(request), key))
    response.del_cookie(STATE_COOKIE, path="/signin")
    return response


async def callback(request: web.Request) -> web.Response:
    g = request.app[GALLERY]
    settings = g.settings
    if (refused := await _not_now(request)) is not None:
        return refused
    pending = await _pending(request)
    state = request.query.get("state", "")
    if pending is None or not state or not hmac.compare_digest(str(pending.get("s", "")), state):
        return _refused(request, "signin.state")
    if "error" in request.query:  # the person pressed Cancel on Discord (RFC 6749 §4.1.2.1)
        return _refused(request, "signin.cancelled")
    code = request.query.get("code", "")
    if not code or len(code) > 500:
        return _refused(request, "signin.state")
    try:
        person = await _discord_user(settings, code, str(pending["v"]), _redirect_uri(request))
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
        log.warning("Discord sign-in failed: %s", type(exc).__name__)  # never the code, token or secret
        return _refused(request, "signin.failed", 502)
    user = await g.core.user_for_discord(int(person["id"]), person.get("global_name") or person["username"],
                                         i18n.negotiate(str(person.get("locale", ""))))
    response = web.Response(status=303, headers={"Location": str(forms.safe_return(str(pending.get("n", "/me"))))})
    response.del_cookie(STATE_COOKIE, path="/signin")
    sessions.sign_in(response, request, user.id, user.display_name)
    return response


async def _discord_user(settings, code: str, verifier: str, redirect_uri: str) -> dict:
    """Exchange the code (with the PKCE verifier) and read the person's Discord user object."""
    api = settings.discord_api_base.rstrip("/")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    auth = None
    if settings.discord_client_secret is not None:
        auth = aiohttp.BasicAuth(settings.discord_client_id, settings.discord_client_secret.get_secret_value())
    else:  # a public client: PKCE alone proves the code
        form["client_id"] = settings.discord_client_id
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.post(f"{api}/oauth2/token", data=form, auth=auth,
                             headers={"Accept": "application/json"}) as answer:
            token = await answer.json(content_type=None)
            if answer.status != 200 or token.get("token_type", "").lower() != "bearer":
                raise ValueError(f"token endpoint answered {answer.status}: {token.get('error', '?')}")
            if SCOPE not in str(token.get("scope", "")).split():
                raise ValueError("the identify scope was not granted")
        async with http.get(f"{api}/users/@me",
                            headers={"Authorization": f"Bearer {token['access_token']}"}) as answer:
            if answer.status != 200:
                raise ValueError(f"/users/@me answered {answer.status}")
            person = await answer.json()
    if not str(person.get("id", "")).isdigit():
        raise ValueError("no user id")
    return person


async def signout(request: web.Request) -> web.Response:
    if request.content_length is None or request.content_length > SIGNOUT_MAX_BODY:
        await forms.drain(request, 4 * SIGNOUT_MAX_BODY)
        raise web.HTTPRequestEntityTooLarge(max_size=SIGNOUT_MAX_BODY, actual_size=request.content_length or 0)
    form = await request.post()
    if not await forms.csrf_ok(request, form.get(CSRF_FIELD)):
        return csrf_refused(request)
    response = web.Response(status=303, headers={"Location": "/"})
    sessions.sign_out(response, request)
    return response
