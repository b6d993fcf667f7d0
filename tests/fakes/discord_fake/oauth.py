"""Discord's OAuth2 authorization-code grant, as documented, for "Sign in with Discord" tests.

https://discord.com/developers/docs/topics/oauth2 (Authorization Code Grant; OAuth2 URLs; scopes) and Discord's
authorization-server metadata (https://discord.com/.well-known/oauth-authorization-server: PKCE with S256 only;
client authentication client_secret_basic, client_secret_post or none) on RFC 6749 and RFC 7636:

  * `GET /oauth2/authorize?response_type=code&client_id&scope&state&redirect_uri[&code_challenge&
    code_challenge_method=S256][&prompt]`: Discord's consent page. The redirect_uri must be one registered for the
    application, exactly; an unknown client or redirect is shown as an error page and never redirected to (RFC 6749
    §4.1.2.1). Approving redirects to `redirect_uri?code=...&state=...`; cancelling to `?error=access_denied&state=`.
    Which Discord user the browser is signed in as is `fake.oauth.browser_user` (tests set it).
  * `POST /api/v10/oauth2/token`: only `application/x-www-form-urlencoded` ("JSON content is not permitted");
    grant_type=authorization_code, code (single use, 10 minutes), redirect_uri (the same as at authorize) and
    code_verifier when a challenge was given (BASE64URL(SHA256(verifier)) must equal it). Answers
    `{"access_token", "token_type": "Bearer", "expires_in": 604800, "refresh_token", "scope"}`; errors are RFC 6749
    §5.2 bodies (`invalid_grant`, `invalid_client` 401, `invalid_request`, `unsupported_grant_type`).
  * `GET /api/v10/users/@me` with `Authorization: Bearer <token>`: the user object (id, username, global_name,
    discriminator, avatar, locale ...) for a token with the `identify` scope; 401 otherwise.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.discord_fake.entities import FakeUser

CODE_LIFETIME_S = 600
TOKEN_LIFETIME_S = 604800  # Discord's access tokens last a week
SCOPES = {"identify", "email", "guilds", "guilds.members.read", "connections", "openid"}


@dataclass
class Grant:
    user: "FakeUser"
    redirect_uri: str
    scope: str
    challenge: str
    expires: float


@dataclass
class OAuthApp:
    """The application's OAuth2 side and what happened to it (tests read `authorize_requests`, `token_requests`)."""

    client_id: str = "123456789012345678"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uris: list[str] = field(default_factory=list)
    browser_user: str | None = None  # the fake user the browser is signed in to Discord as
    user_locales: dict[str, str] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, tuple["FakeUser", str, float]] = field(default_factory=dict)
    authorize_requests: list[dict] = field(default_factory=list)
    token_requests: list[dict] = field(default_factory=list)


def _error_page(message: str, status: int = 400) -> web.Response:
    return web.Response(status=status, content_type="text/html",
                        text=f"<!doctype html><title>Discord</title><p class=error>{html.escape(message)}</p>")


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _redirect(uri: str, params: dict) -> web.Response:
    joiner = "&" if "?" in uri else "?"
    raise web.HTTPFound(uri + joiner + urlencode({k: v for k, v in params.items() if v is not None}))


def _validate(fake, query) -> tuple[OAuthApp, str] | web.Response:
    app: OAuthApp = fake.oauth
    if query.get("client_id") != app.client_id:
        return _error_page("Unknown application")
    redirect = query.get("redirect_uri", "")
    if redirect not in app.redirect_uris:
        return _error_page("Invalid OAuth2 redirect_uri")
    return app, redirect


async def authorize_page(request: web.Request) -> web.Response:
    fake = _fake(request)
    query = request.query
    fake.oauth.authorize_requests.append(dict(query))
    checked = _validate(fake, query)
    if isinstance(checked, web.Response):
        return checked
    app, redirect = checked
    state = query.get("state")
    scopes = query.get("scope", "").split()
    if query.get("response_type") != "code":
        _redirect(redirect, {"error": "unsupported_response_type", "state": state})
    if not scopes or not set(scopes) <= SCOPES:
        _redirect(redirect, {"error": "invalid_scope", "state": state})
    if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
        _redirect(redirect, {"error": "invalid_request", "error_description": "code_challenge_method must be S256",
                             "state": state})
    user = fake.users.get(app.browser_user or "")
    if user is None:
        return _error_page("Log in to Discord to continue", status=401)
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in query.items())
    return web.Response(content_type="text/html", text=(
        "<!doctype html><title>Discord — Authorize</title>"
        f"<p>An external application wants to access your Discord account <b>{html.escape(user.username)}</b>.</p>"
        f"<p>Scopes: {html.escape(' '.join(scopes))}</p>"
        f'<form method="post" action="/oauth2/authorize">{hidden}'
        '<button id="authorize" name="decision" value="approve">Authorize</button>'
        '<button id="cancel" name="decision" value="cancel">Cancel</button></form>'))


async def authorize_decision(request: web.Request) -> web.Response:
    fake = _fake(request)
    form = await request.post()
    checked = _validate(fake, form)
    if isinstance(checked, web.Response):
        return checked
    app, redirect = checked
    state = form.get("state")
    user = fake.users.get(app.browser_user or "")
    if form.get("decision") != "approve" or user is None:
        _redirect(redirect, {"error": "access_denied", "error_description": "The resource owner or authorization "
                             "server denied the request", "state": state})
    code = secrets.token_urlsafe(20)
    app.codes[code] = Grant(user=user, redirect_uri=redirect, scope=str(form.get("scope", "")),
                            challenge=str(form.get("code_challenge", "")), expires=time.monotonic() + CODE_LIFETIME_S)
    _redirect(redirect, {"code": code, "state": state})


def _client_credentials(request: web.Request, form) -> tuple[str, str | None]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", None
        return client_id, secret
    return str(form.get("client_id", "")), form.get("client_secret")


async def token(request: web.Request) -> web.Response:
    fake = _fake(request)
    app: OAuthApp = fake.oauth
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", "JSON content is not permitted")
    form = await request.post()
    app.token_requests.append({k: v for k, v in form.items() if k != "client_secret"}
                              | {"basic_auth": request.headers.get("Authorization", "").startswith("Basic ")})
    client_id, secret = _client_credentials(request, form)
    if client_id != app.client_id or (secret is not None and not hmac.compare_digest(secret, app.client_secret)):
        return _oauth_error("invalid_client", "Invalid client", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "only authorization_code here")
    grant = app.codes.pop(str(form.get("code", "")), None)  # single use, even when the rest is wrong
    if grant is None or grant.expires < time.monotonic():
        return _oauth_error("invalid_grant", 'Invalid "code" in request.')
    if form.get("redirect_uri") != grant.redirect_uri:
        return _oauth_error("invalid_grant", 'Invalid "redirect_uri" in request.')
    if grant.challenge:
        verifier = str(form.get("code_verifier", ""))
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(digest, grant.challenge):
            return _oauth_error("invalid_grant", "Invalid code_verifier")
    elif secret is None:  # a public client must prove the code with PKCE
        return _oauth_error("invalid_client", "Invalid client", 401)
    access = secrets.token_urlsafe(24)
    app.tokens[access] = (grant.user, grant.scope, time.monotonic() + TOKEN_LIFETIME_S)
    return web.json_response({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S,
                              "refresh_token": secrets.token_urlsafe(24), "scope": grant.scope})


def bearer_user(fake, header: str) -> dict | None:
    """The user object for a Bearer token with the identify scope, else None (the caller answers 401)."""
    if not header.startswith("Bearer "):
        return None
    found = fake.oauth.tokens.get(header[7:])
    if found is None or found[2] < time.monotonic() or "identify" not in found[1].split():
        return None
    user = found[0]
    return user.payload() | {"locale": fake.oauth.user_locales.get(user.username, "en-US"), "mfa_enabled": False,
                             "premium_type": 0}


def _fake(request: web.Request):
    from tests.fakes.discord_fake.rest import fake_of  # rest.py imports this module

    return fake_of(request)


def add_oauth_routes(app: web.Application) -> None:
    """The consent page (outside /api); the token endpoint is one of rest.ROUTES."""
    app.router.add_get("/oauth2/authorize", authorize_page)
    app.router.add_post("/oauth2/authorize", authorize_decision)
