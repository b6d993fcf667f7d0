"""The signed-in person of a gallery request: a signed, HttpOnly, SameSite=Lax cookie, nothing stored server-side.

The cookie is `base64url(json {"u": user id, "n": name, "e": expiry}) "." hmac`, signed with the install's form
secret under a purpose of its own (SharedCsrf.sign), so every web process of an install accepts it and a form token
is never a session. Lax, not Strict: the sign-in ends with a redirect chain that began on discord.com, and a Strict
cookie would be withheld from its first page. The cookie names the person only; every owner page loads the user
from the database (an erased or unknown account is signed out) and checks ownership in the use case."""
from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass

from aiohttp import web

from bot.web.state import GALLERY

SESSION_COOKIE = "mimic_session"
PURPOSE = "session"
LIFETIME_S = 7 * 86400
MAX_COOKIE = 600
SIGNED_OUT = web.RequestKey("mimic_signed_out", bool)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str


def _encode(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _decode(text: str) -> dict | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _parse(raw: str | None) -> tuple[str, str, Viewer] | None:
    if not raw or len(raw) > MAX_COOKIE or raw.count(".") != 1:
        return None
    body, signature = raw.split(".")
    payload = _decode(body)
    if payload is None:
        return None
    user_id, name, expires = payload.get("u"), payload.get("n", ""), payload.get("e")
    if not isinstance(user_id, int) or not isinstance(expires, (int, float)) or expires < time.time():
        return None
    return body, signature, Viewer(user_id, str(name)[:100])


def forget(request: web.Request) -> None:
    """This request's page is rendered signed out (the account was just deleted), whatever its cookie says."""
    request[SIGNED_OUT] = True


def viewer(request: web.Request) -> Viewer | None:
    """Who the cookie names, checked against the secret this process holds now (for the page header)."""
    if request.get(SIGNED_OUT):
        return None
    parsed = _parse(request.cookies.get(SESSION_COOKIE))
    if parsed is None:
        return None
    body, signature, who = parsed
    csrf = request.app[GALLERY].csrf
    return who if len(signature) == 64 and csrf.sign(PURPOSE, body) == signature else None


async def verified_viewer(request: web.Request) -> Viewer | None:
    """The same, re-reading a shared secret another process created meanwhile (SharedCsrf.signed)."""
    parsed = _parse(request.cookies.get(SESSION_COOKIE))
    if parsed is None or len(parsed[1]) != 64:
        return None
    body, signature, who = parsed
    return who if await request.app[GALLERY].csrf.signed(PURPOSE, body, signature) else None


def sign_in(response: web.StreamResponse, request: web.Request, user_id: int, name: str) -> None:
    g = request.app[GALLERY]
    body = _encode({"u": user_id, "n": name[:100], "e": int(time.time()) + LIFETIME_S})
    response.set_cookie(SESSION_COOKIE, f"{body}.{g.csrf.sign(PURPOSE, body)}", max_age=LIFETIME_S, httponly=True,
                        samesite="Lax", secure=g.secure_cookies, path="/")


def sign_out(response: web.StreamResponse, request: web.Request) -> None:
    g = request.app[GALLERY]
    response.del_cookie(SESSION_COOKIE, path="/", secure=g.secure_cookies, httponly=True, samesite="Lax")
