"""The gallery's small pure parts: token buckets, CSRF tokens, language choice, safe redirects, caches."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.i18n import MESSAGES
from bot.web.i18n import negotiate, pick_locale
from bot.web.images import ThumbnailCache
from data.media import browser_mime
from bot.web.security import Csrf, Limit, RateLimiter, client_address, trusted_networks
from bot.web.views import _safe_return


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_refills_per_address():
    clock = Clock()
    limiter = RateLimiter(Limit(capacity=2, per_second=0.5), clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert limiter.allow("b")  # another address has its own bucket
    clock.now = 1.0
    assert not limiter.allow("a")  # half a token so far
    clock.now = 2.0
    assert limiter.allow("a") and not limiter.allow("a")
    clock.now = 100.0
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]  # never more than the burst


def test_token_bucket_memory_is_bounded():
    limiter = RateLimiter(Limit(capacity=1, per_second=0.0), max_keys=3, clock=Clock())
    for key in "abcd":
        assert limiter.allow(key)
    assert len(limiter._buckets) == 3
    assert limiter.allow("a")  # forgotten, so it starts afresh (the price of bounded memory)


def test_csrf_tokens_are_bound_to_the_cookie_and_the_secret():
    csrf = Csrf(b"secret one")
    cookie = csrf.new_cookie()
    token = csrf.token_for(cookie)
    assert csrf.valid(cookie, token)
    assert not csrf.valid(csrf.new_cookie(), token)
    altered = token[:-1] + ("1" if token[-1] == "0" else "0")  # one digit changed (never the same digit again)
    assert not csrf.valid(cookie, None) and not csrf.valid(None, token) and not csrf.valid(cookie, altered)
    assert not Csrf(b"secret two").valid(cookie, token)



def test_client_address_behind_trusted_proxies_only():
    trusted = trusted_networks("10.0.0.0/8, 192.168.1.7")
    assert client_address("203.0.113.5", ["198.51.100.1"], trusted) == "203.0.113.5"  # not a proxy: its own
    assert client_address("10.0.0.2", ["198.51.100.1"], trusted) == "198.51.100.1"
    # read from the right: what the client itself wrote further left never counts
    assert client_address("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.0.0.9"], trusted) == "198.51.100.1"
    assert client_address("10.0.0.2", ["6.6.6.6", "198.51.100.1, 192.168.1.7"], trusted) == "198.51.100.1"
    assert client_address("10.0.0.2", ["unknown"], trusted) == "10.0.0.2"  # nonsense: the proxy we trust
    assert client_address("10.0.0.2", [], trusted) == "10.0.0.2"
    assert client_address("::ffff:10.0.0.2", ["198.51.100.1"], trusted) == "198.51.100.1"
    assert client_address("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"  # trusting nobody: the header is ignored
    assert client_address(None, [], ()) == "unknown"
    assert trusted_networks(" ") == ()
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        trusted_networks("10.0.0.1, 10.0.0.0/33")

def test_language_choice():
    assert negotiate("ja-JP,ja;q=0.9,en-US;q=0.8") == "ja"
    assert negotiate("en-GB,ja;q=0.9") == "en"
    assert negotiate("fr-FR, ja;q=0.3") == "ja"
    assert negotiate("fr, de") == "en" and negotiate("") == "en" and negotiate("ja;q=banana") == "en"
    assert pick_locale("ja", "en", "en") == "ja" and pick_locale(None, "ja", "en") == "ja"
    assert pick_locale("xx", None, "ja") == "ja"


def test_both_languages_have_every_string():
    """Every string a page asks for is in the one catalogue (bot.i18n), with the same placeholders in both
    languages."""
    templates = Path(__file__).resolve().parents[2] / "bot" / "web" / "templates"
    asked = {key for page in templates.glob("*.html") for key in re.findall(r"_\('([\w.]+)'\s*[,)]", page.read_text())}
    assert asked and not asked - set(MESSAGES), sorted(asked - set(MESSAGES))
    for key in asked:
        en, ja = MESSAGES[key]
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", ja)), key


def test_redirects_stay_on_this_site():
    assert str(_safe_return("/g/12")) == "/g/12"
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "", None, "javascript:alert(1)"):
        assert str(_safe_return(bad)) == "/", bad


def test_only_images_browsers_show_are_sniffed():
    assert browser_mime(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert browser_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert browser_mime(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert browser_mime(b"<html><script>") is None


def test_thumbnail_cache_evicts_least_recently_used():
    cache = ThumbnailCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recent
    cache.put("c", b"1234")
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.discard("a")
    assert cache.get("a") is None
