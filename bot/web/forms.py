"""What every form handler of the gallery shares: who the client is (for rate limits), the CSRF check, reading
away a refused body, and where a form may send the browser back to. views.py, signin.py and owner.py use these;
the pages for "too many" and "refused" (which need the page renderer) are views.too_many and views.csrf_refused."""
from __future__ import annotations

from aiohttp import web
from yarl import URL

from bot.web.security import CSRF_COOKIE, client_address
from bot.web.state import GALLERY
from bot.web.uploads import CHUNK


def client(request: web.Request) -> str:
    """The address rate limits count: the peer, or what a trusted proxy saw (WEB_TRUSTED_PROXIES)."""
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                          request.app[GALLERY].trusted_proxies)


async def drain(request: web.Request, cap: int) -> None:
    """Read and drop a body we refuse, so a browser still uploading gets our answer (not a reset)."""
    seen = 0
    while seen <= cap and (chunk := await request.content.read(CHUNK)):
        seen += len(chunk)


async def csrf_ok(request: web.Request, token: str | None) -> bool:
    return await request.app[GALLERY].csrf.valid(request.cookies.get(CSRF_COOKIE), token)


def safe_return(path: str | None) -> URL:
    """Only a path on this site: never an open redirect."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return URL("/")
    url = URL(path)
    return URL("/") if url.is_absolute() else url
