"""Fake X API v2, Bluesky (AppView, PLC directory, PDS) and Mastodon servers for tests, reached by the real
client libraries.

    async with FakeSocial() as fake:
        alice = fake.add_account("x", "alice", bio="I draw cats")
        fake.add_post(alice, images=[pil_image], text="new piece")
        settings = settings.model_copy(update=fake.settings_overrides())

Each service gets its own aiohttp server on a random loopback port and answers with the JSON shapes the real
APIs return (as far as tweepy, atproto and Mastodon.py parse them), held to the services' published contracts;
each modelled behaviour cites its document next to the code:
- common: pagination (X `meta.next_token`, Bluesky `cursor`, Mastodon `Link`), 429 with the platforms' reset
  headers, deleted media (404), reposts of someone else's post, handle changes (same stable id);
- X: the 3,200-post timeline window (800 with exclude=replies), pages cut before exclusions, reused media
  (`attachments.media_source_tweet_id`), `note_tweet` for posts over 280 characters, protected timelines, a
  refused bearer token (401), the monthly usage cap (429 UsageCapExceeded), 403 client-forbidden;
- Bluesky: CDN re-encodes for `fullsize`, originals through `com.atproto.sync.getBlob` on a PDS named by a
  PLC-directory DID document, posts dropped after paging (empty pages with a cursor), replies and quote posts,
  `handle.invalid`, the logged-out opt-out label;
- Mastodon: several servers (split LOCAL_DOMAIN/WEB_DOMAIN with WebFinger), `locked` accounts with public
  posts, post visibility, `suspended: true`, profile fields, /api/v1/instance.
Every request is recorded in `fake.requests` so tests can check the clients' manners."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from PIL import Image

PLATFORMS = ("x", "bluesky", "mastodon")
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@dataclass
class FakeImage:
    key: str
    data: bytes
    content_type: str
    width: int
    height: int
    deleted: bool = False  # listed in the post, but the file answers 404


@dataclass
class FakeAccount:
    platform: str
    uid: str  # X numeric id, Bluesky DID, Mastodon numeric id
    handle: str
    display_name: str = ""
    bio: str = ""
    protected: bool = False  # X: protected posts; Bluesky: logged-out opt-out; Mastodon: `locked` (follow approval)
    posts: list["FakePost"] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)  # Mastodon profile fields (name, value)
    suspended: bool = False  # Mastodon: still answered 200, with `suspended: true`
    instance: "FakeInstance | None" = None  # Mastodon: the server it lives on (None: the main fake instance)


@dataclass
class FakeInstance:
    """A Mastodon server. With a split domain, handles use `local_domain` (LOCAL_DOMAIN) while the API and web
    pages live on `url` (WEB_DOMAIN), and only WebFinger on the local domain tells the two apart
    (https://docs.joinmastodon.org/admin/config/#web_domain, https://docs.joinmastodon.org/spec/webfinger/)."""

    url: str
    local_domain: str
    claimed_domain: str | None = None  # what /api/v1/instance says, when it lies about local_domain

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]


@dataclass
class FakePost:
    seq: int  # global order; bigger is newer
    account: FakeAccount
    text: str
    images: list[FakeImage]
    created_at: datetime
    repost_of: "FakePost | None" = None
    reply: bool = False  # a reply to someone else's post, unless `reply_to` names the parent
    reply_to: "FakePost | None" = None  # the parent post (a reply to one's own post makes a self-thread)
    media_from: "FakePost | None" = None  # X: media reused from another post (attachments.media_source_tweet_id)
    quote_of: "FakePost | None" = None  # a quote post (carrying its own pictures, if any)
    hidden: bool = False  # Bluesky: taken down / not hydratable: the AppView drops it after paging
    aspect_ratio: bool = True  # Bluesky: the record states aspectRatio (optional; older posts have none)
    visibility: str = "public"  # Mastodon: public, unlisted, private (followers only), direct
    # Bluesky: when the AppView indexed it (None: when created). A record's createdAt is whatever the client wrote
    # ("can be set arbitrarily", https://docs.bsky.app/docs/advanced-guides/timestamps); indexedAt is the AppView's
    indexed_at: datetime | None = None

    @property
    def id(self) -> str:  # X and Mastodon ids are numeric strings, growing with time
        return str(1_790_000_000_000_000_000 + self.seq)

    @property
    def rkey(self) -> str:  # a TID-like Bluesky record key
        n, out = 3_000_000_000_000_000 + self.seq, ""
        for _ in range(13):
            out = _B32[n % 32] + out
            n //= 32
        return out


@dataclass
class RecordedRequest:
    platform: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    at: float = 0.0  # time.time() when it arrived
    rate_limit_reset: float | None = None  # the reset time announced, when it was answered 429


class FakeSocial:
    def __init__(self, *, x_token: str = "fake-x-bearer-token", mastodon_token: str | None = None):
        self.x_token = x_token
        self.mastodon_token = mastodon_token  # None: public reads only, any token refused
        self.x_token_valid = True
        self.x_usage_capped = False  # X: the app's monthly post cap is spent (429 UsageCapExceeded)
        self.x_window_reset_in_s = 900.0  # X: when the 15-minute window those 429s still describe resets
        self.x_forbidden_endpoints: set[str] = set()  # X: "users" / "tweets" outside the app's access tier (403)
        self.requests: list[RecordedRequest] = []
        self.accounts: list[FakeAccount] = []
        self.x_url = self.bluesky_url = self.mastodon_url = ""
        self.bluesky_plc_url = self.bluesky_pds_url = ""  # Bluesky's DID directory and the accounts' PDS
        self.mastodon_instances: list[FakeInstance] = []  # [0] is the main one, at mastodon_url
        self._rate_limits: dict[str, list[float]] = {p: [] for p in PLATFORMS}  # pending 429s: reset delays
        self._images: dict[str, FakeImage] = {}
        self._seq = itertools.count(1)
        self._runners: list[web.AppRunner] = []
        self.media_delay_s = 0.0  # slow media answers down, to observe the clients' concurrency
        self.media_in_flight = 0
        self.media_max_in_flight = 0

    # lifecycle -----------------------------------------------------------------------------------------
    async def __aenter__(self) -> "FakeSocial":
        self.x_url = await self._serve("x", self._x_routes())
        self.bluesky_url = await self._serve("bluesky", self._bluesky_routes())
        self.bluesky_plc_url = await self._serve("bluesky-plc", [web.get("/{did}", self._plc_document)])
        self.bluesky_pds_url = await self._serve("bluesky-pds", [web.get("/xrpc/com.atproto.sync.getBlob",
                                                                         self._pds_get_blob)])
        self.mastodon_url = await self._serve("mastodon", self._mastodon_routes())
        self.mastodon_instances = [FakeInstance(self.mastodon_url, self.mastodon_url.split("://", 1)[1])]
        return self

    async def __aexit__(self, *exc_info) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _serve(self, platform: str, routes: list[web.RouteDef]) -> str:
        app = web.Application(middlewares=[self._middleware(platform)])
        app.add_routes(routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def settings_overrides(self) -> dict[str, Any]:
        """Settings fields pointing every provider at this fake (use with `settings.model_copy(update=...)`)."""
        from pydantic import SecretStr

        return {"x_api_base": self.x_url, "x_bearer_token": SecretStr(self.x_token),
                "bluesky_appview_url": self.bluesky_url, "bluesky_plc_url": self.bluesky_plc_url,
                "mastodon_instance": self.mastodon_url,
                "mastodon_access_token": SecretStr(self.mastodon_token) if self.mastodon_token else None,
                "media_allow_private_hosts": True}  # the fake serves its media on loopback

    # test controls ---------------------------------------------------------------------------------------
    def add_account(self, platform: str, handle: str, *, bio: str = "", display_name: str = "",
                    protected: bool = False, fields: list[tuple[str, str]] = (),
                    instance: FakeInstance | None = None) -> FakeAccount:
        assert platform in PLATFORMS, platform
        n = len(self.accounts) + 1
        uid = {"x": str(1_400_000_000 + n), "mastodon": str(109_000_000_000 + n),
               "bluesky": "did:plc:" + _b32(n).rjust(24, "a")}[platform]  # did:plc ids: 24 base32 letters
        account = FakeAccount(platform, uid, handle, display_name or handle.split(".")[0].title(), bio, protected,
                              fields=list(fields), instance=instance)
        self.accounts.append(account)
        return account

    async def add_mastodon_instance(self, *, split_domain: bool = False) -> FakeInstance:
        """Another Mastodon server on loopback; with `split_domain`, its handles name a second host that serves
        only WebFinger (as example.com does for a server whose API is on social.example.com)."""
        url = await self._serve("mastodon", self._mastodon_routes())
        local = await self._serve("mastodon", [web.get("/.well-known/webfinger", self._masto_webfinger)]) \
            if split_domain else url
        instance = FakeInstance(url, local.split("://", 1)[1])
        self.mastodon_instances.append(instance)
        return instance

    def add_post(self, account: FakeAccount, *, images: list[Any] = (), text: str = "",
                 repost_of: FakePost | None = None, deleted_media: bool = False, reply: bool = False,
                 posted_at: datetime | None = None, reply_to: FakePost | None = None,
                 media_from: FakePost | None = None, quote_of: FakePost | None = None, hidden: bool = False,
                 visibility: str = "public", indexed_at: datetime | None = None) -> FakePost:
        """A post by `account`, newer than every earlier one. `images`: PIL images or encoded bytes.
        `media_from`: the post shows that post's media again (X's "reused media"); `reply_to`: a reply to that
        post (`reply=True` alone: a reply to someone else)."""
        seq = next(self._seq)
        stored = [self._store_image(image, deleted_media) for image in images]
        if media_from is not None:
            stored = list(media_from.images)
        post = FakePost(seq, account, text, stored, posted_at or _EPOCH + timedelta(minutes=seq),
                        repost_of=repost_of, reply=reply or reply_to is not None, reply_to=reply_to,
                        media_from=media_from, quote_of=quote_of, hidden=hidden, visibility=visibility,
                        indexed_at=indexed_at)
        account.posts.append(post)
        return post

    def rename(self, account: FakeAccount, new_handle: str) -> None:
        account.handle = new_handle  # the stable id stays

    def rate_limit(self, platform: str, times: int = 1, reset_in_s: float = 1.0) -> None:
        """The next `times` API requests to `platform` get 429 with a reset `reset_in_s` seconds ahead."""
        self._rate_limits[platform].extend([reset_in_s] * times)

    def expire_x_token(self) -> None:
        self.x_token_valid = False

    def api_requests(self, platform: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.platform == platform and not r.path.startswith(_MEDIA_PREFIXES)]

    # plumbing ------------------------------------------------------------------------------------------
    def _store_image(self, image: Any, deleted: bool) -> FakeImage:
        if isinstance(image, Image.Image):
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            data = buf.getvalue()
        else:
            data = bytes(image)
        width = height = 0
        content_type = "application/octet-stream"
        try:
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                content_type = Image.MIME.get(probe.format or "", content_type)
        except Exception:  # noqa: BLE001 - tests may post broken files on purpose
            pass
        key = f"m{len(self._images) + 1:06d}"
        self._images[key] = FakeImage(key, data, content_type, width, height, deleted)
        return self._images[key]

    def _middleware(self, platform: str):
        @web.middleware
        async def record_and_limit(request: web.Request, handler):
            entry = RecordedRequest(platform, request.method, request.path, dict(request.query), dict(request.headers),
                                    at=time.time())
            self.requests.append(entry)
            pending = self._rate_limits.get(platform, [])
            if pending and not request.path.startswith(_MEDIA_PREFIXES):
                response, entry.rate_limit_reset = _too_many(platform, pending.pop(0))
            else:
                response = await handler(request)
            entry.status = response.status
            return response

        return record_and_limit

    async def _media(self, request: web.Request) -> web.Response:
        image = self._images.get(request.match_info["key"])
        if image is None or image.deleted:
            return web.Response(status=404, text="Not Found")
        return await self._media_response(image)

    async def _media_response(self, image: FakeImage) -> web.Response:
        self.media_in_flight += 1
        self.media_max_in_flight = max(self.media_max_in_flight, self.media_in_flight)
        try:
            if self.media_delay_s:
                await asyncio.sleep(self.media_delay_s)
            return web.Response(body=image.data, content_type=image.content_type)
        finally:
            self.media_in_flight -= 1

    def _account(self, platform: str, *, handle: str | None = None, uid: str | None = None) -> FakeAccount | None:
        for account in self.accounts:
            if account.platform != platform:
                continue
            if uid is not None and account.uid == uid:
                return account
            if handle is not None and account.handle.lower() == handle.lower():
                return account
        return None

    # X API v2 ------------------------------------------------------------------------------------------
    def _x_routes(self) -> list[web.RouteDef]:
        return [web.get("/2/users/by/username/{username}", self._x_user_by_name),
                web.get("/2/users/{id}/tweets", self._x_tweets),
                web.get("/2/users/{id}", self._x_user_by_id),
                web.get("/media/{key}.{ext}", self._media)]

    def _x_refusal(self, request: web.Request, endpoint: str) -> web.Response | None:
        """What X answers before it looks at the request: a refused token, the app's spent monthly cap, an
        endpoint the app's access tier does not include."""
        if not (self.x_token_valid and request.headers.get("Authorization") == f"Bearer {self.x_token}"):
            return _json({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                         status=401)
        if self.x_usage_capped:
            # The 429 X sends once the app's monthly post cap is spent; the x-rate-limit-* headers keep
            # describing the (unspent) 15-minute window. Body as X sends it, see
            # https://github.com/xdevplatform/xdk/issues/25 and https://docs.x.com/x-api/fundamentals/post-cap
            response = _json({"account_id": "1400000001", "product_name": "standard-basic",
                              "title": "UsageCapExceeded", "period": "Monthly", "scope": "Product",
                              "detail": "Usage cap exceeded: Monthly product cap",
                              "type": "https://api.twitter.com/2/problems/usage-capped"}, status=429)
            response.headers.update({"x-rate-limit-limit": "1500", "x-rate-limit-remaining": "1499",
                                     "x-rate-limit-reset": str(int(time.time() + self.x_window_reset_in_s))})
            return response
        if endpoint in self.x_forbidden_endpoints:
            # 403 client-forbidden: the app's access tier (or a missing Project) does not include the endpoint,
            # https://developer.x.com/en/support/x-api/error-troubleshooting#client-forbidden
            return _json({"client_id": "24555515",
                          "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
                                    "keys and tokens from a Twitter developer App that is attached to a Project. "
                                    "You can create a project via the developer portal.",
                          "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
                          "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access",
                          "reason": "client-not-enrolled",
                          "type": "https://api.twitter.com/2/problems/client-forbidden"}, status=403)
        return None

    def _x_user_json(self, account: FakeAccount, fields: set[str]) -> dict:
        full = {"id": account.uid, "name": account.display_name, "username": account.handle,
                "description": account.bio, "protected": account.protected,
                "created_at": "2019-03-01T09:00:00.000Z",
                "profile_image_url": f"{self.x_url}/profile_images/{account.uid}/normal.jpg"}
        return {k: v for k, v in full.items() if k in {"id", "name", "username"} | fields}

    async def _x_user_by_name(self, request: web.Request) -> web.Response:
        if (refused := self._x_refusal(request, "users")) is not None:
            return refused
        username = request.match_info["username"]
        account = self._account("x", handle=username)
        if account is None:
            return _json({"errors": [{"value": username, "detail": f"Could not find user with username: [{username}].",
                                      "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                                      "resource_id": username,
                                      "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return _json({"data": self._x_user_json(account, _csv(request.query.get("user.fields")))})

    async def _x_user_by_id(self, request: web.Request) -> web.Response:
        if (refused := self._x_refusal(request, "users")) is not None:
            return refused
        uid = request.match_info["id"]
        account = self._account("x", uid=uid)
        if account is None:
            return _json({"errors": [{"value": uid, "detail": f"Could not find user with id: [{uid}].",
                                      "title": "Not Found Error", "resource_type": "user", "parameter": "id",
                                      "resource_id": uid,
                                      "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return _json({"data": self._x_user_json(account, _csv(request.query.get("user.fields")))})

    async def _x_tweets(self, request: web.Request) -> web.Response:
        """GET /2/users/:id/tweets,
        https://developer.x.com/en/docs/x-api/tweets/timelines/api-reference/get-users-id-tweets
        The timeline reaches the 3,200 most recent posts, retweets and replies included, or only the 800 most
        recent when `exclude=replies` is given. Pages are cut from that timeline before `exclude` removes posts,
        so a page may hold fewer than max_results posts, even none, and still carry a next_token: only a missing
        next_token ends the list (https://developer.x.com/en/docs/x-api/pagination)."""
        if (refused := self._x_refusal(request, "tweets")) is not None:
            return refused
        uid = request.match_info["id"]
        account = self._account("x", uid=uid)
        q = request.query
        max_results = int(q.get("max_results", "10"))
        if not 5 <= max_results <= 100:
            return _json({"errors": [{"parameters": {"max_results": [str(max_results)]},
                                      "message": "The `max_results` query parameter value is not between 5 and 100"}],
                          "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                          "type": "https://api.twitter.com/2/problems/invalid-request"}, status=400)
        if account is None:
            return _json({"errors": [{"detail": f"Could not find user with id: [{uid}].", "title": "Not Found Error",
                                      "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        if account.protected:
            return _json({"errors": [{"resource_id": uid, "parameter": "id", "resource_type": "user",
                                      "section": "data", "title": "Authorization Error", "value": uid,
                                      "detail": f"Sorry, you are not authorized to see the user with id: [{uid}].",
                                      "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}]})
        exclude = _csv(q.get("exclude"))
        timeline = list(reversed(account.posts))[:X_REPLIES_EXCLUDED_WINDOW if "replies" in exclude else X_WINDOW]
        offset = int(q["pagination_token"][3:]) if q.get("pagination_token", "").startswith("pag") else 0
        window = timeline[offset:offset + max_results]
        page = [p for p in window
                if not ("retweets" in exclude and p.repost_of) and not ("replies" in exclude and p.reply)]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + max_results < len(timeline):
            meta["next_token"] = f"pag{offset + max_results}"
        if not page:
            return _json({"meta": meta})
        tweet_fields = _csv(q.get("tweet.fields"))
        media_fields = _csv(q.get("media.fields"))
        expansions = _csv(q.get("expansions"))
        data, media, sources = [], {}, {}
        for post in page:
            data.append(self._x_tweet_json(post, tweet_fields))
            shown = post.repost_of or post
            for image in shown.images:
                full = {"media_key": f"3_{image.key}", "type": "photo", "url": self._x_media_url(image),
                        "width": image.width, "height": image.height}
                media[image.key] = {k: v for k, v in full.items() if k in {"media_key", "type"} | media_fields}
            if shown.media_from is not None:
                sources[shown.media_from.id] = self._x_tweet_json(shown.media_from, tweet_fields)
        body: dict[str, Any] = {"data": data}
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions and media:
            includes["media"] = list(media.values())
        # expansions=attachments.media_source_tweet: the posts reused media first appeared in, with the
        # requested tweet.fields (author_id tells whose they are), https://docs.x.com/x-api/fundamentals/expansions
        if "attachments.media_source_tweet" in expansions and sources:
            includes["tweets"] = list(sources.values())
        if includes:
            body["includes"] = includes
        body["meta"] = meta
        return _json(body)

    def _x_tweet_json(self, post: FakePost, tweet_fields: set[str]) -> dict:
        """A post as the Tweet object of the data dictionary,
        https://developer.x.com/en/docs/x-api/data-dictionary/object-model/tweet"""
        shown = post.repost_of or post
        text = f"RT @{shown.account.handle}: {shown.text}" if post.repost_of else post.text
        tweet: dict[str, Any] = {"id": post.id, "edit_history_tweet_ids": [post.id], "text": text[:X_TEXT_LIMIT]}
        if len(text) > X_TEXT_LIMIT and "note_tweet" in tweet_fields and not post.repost_of:
            tweet["note_tweet"] = {"text": text}  # posts over 280 characters: `text` is only the beginning
        if "author_id" in tweet_fields:
            tweet["author_id"] = post.account.uid
        if "created_at" in tweet_fields:
            tweet["created_at"] = _iso_ms(post.created_at)
        if "in_reply_to_user_id" in tweet_fields and post.reply:
            tweet["in_reply_to_user_id"] = post.reply_to.account.uid if post.reply_to else "1399999999"
        if "referenced_tweets" in tweet_fields:
            refs = []
            if post.repost_of:
                refs.append({"type": "retweeted", "id": shown.id})
            if post.reply:
                refs.append({"type": "replied_to", "id": post.reply_to.id if post.reply_to else "1789999999999999999"})
            if post.quote_of:
                refs.append({"type": "quoted", "id": post.quote_of.id})
            if refs:
                tweet["referenced_tweets"] = refs
        if shown.images:
            attachments: dict[str, Any] = {"media_keys": [f"3_{image.key}" for image in shown.images]}
            if shown.media_from is not None:
                attachments["media_source_tweet_id"] = [shown.media_from.id]
            tweet["attachments"] = attachments
        return tweet

    def _x_media_url(self, image: FakeImage) -> str:
        return f"{self.x_url}/media/{image.key}.{_ext(image)}"

    # Bluesky AppView, PLC directory and PDS ----------------------------------------------------------------
    def _bluesky_routes(self) -> list[web.RouteDef]:
        return [web.get("/xrpc/app.bsky.actor.getProfile", self._bsky_profile),
                web.get("/xrpc/app.bsky.feed.getAuthorFeed", self._bsky_author_feed),
                web.get("/img/{preset}/plain/{did}/{cid}@{fmt}", self._bsky_cdn)]

    def _bsky_actor(self, actor: str) -> FakeAccount | None:
        if actor.startswith("did:"):
            return self._account("bluesky", uid=actor)
        if actor == "handle.invalid":  # not a handle anyone can be looked up by
            return None
        return self._account("bluesky", handle=actor)

    def _bsky_basic(self, account: FakeAccount) -> dict:
        # a handle that stops verifying is shown as "handle.invalid" (the DID stays):
        # https://docs.bsky.app/docs/advanced-guides/resolution#handle-resolution
        return {"did": account.uid, "handle": account.handle, "displayName": account.display_name,
                "avatar": f"{self.bluesky_url}/img/avatar/plain/{account.uid}/{_blob_cid(b'avatar')}@jpeg",
                "labels": self._bsky_labels(account), "createdAt": "2023-07-01T10:00:00.000Z",
                "associated": {"chat": {"allowIncoming": "following"}}, "viewer": {"muted": False,
                                                                                    "blockedBy": False}}

    def _bsky_labels(self, account: FakeAccount) -> list[dict]:
        if not account.protected:
            return []
        return [{"src": account.uid, "uri": f"at://{account.uid}/app.bsky.actor.profile/self",
                 "cid": "bafyreihwqfrmvbqamr7zyqnhd3qiyhrthbvmvrnkovyqsadv7xw6r2mmme", "val": "!no-unauthenticated",
                 "cts": "2023-07-01T10:00:00.000Z"}]

    async def _bsky_profile(self, request: web.Request) -> web.Response:
        account = self._bsky_actor(request.query.get("actor", ""))
        if account is None:
            return _json({"error": "InvalidRequest", "message": "Profile not found"}, status=400)
        return _json({**self._bsky_basic(account), "description": account.bio,
                      "followersCount": 120, "followsCount": 80, "postsCount": len(account.posts),
                      "indexedAt": "2024-01-01T00:00:00.000Z"})

    def _bsky_uri(self, post: FakePost) -> str:
        return f"at://{post.account.uid}/app.bsky.feed.post/{post.rkey}"

    def _bsky_images(self, post: FakePost) -> tuple[dict, dict]:
        """The app.bsky.embed.images record (blob refs of the originals) and its #view: `fullsize` and `thumb`
        are CDN re-encodes (https://docs.bsky.app/docs/advanced-guides/posts#images-embeds); aspectRatio is
        optional in the lexicon (lexicons/app/bsky/embed/images.json) and absent from older posts."""
        did = post.account.uid
        record, view = [], []
        for image in post.images:
            ratio = {"aspectRatio": {"width": image.width or 1, "height": image.height or 1}} if post.aspect_ratio \
                else {}
            cid = _blob_cid(image.data)
            record.append({"alt": "", **ratio, "image": {"$type": "blob", "ref": {"$link": cid},
                                                         "mimeType": image.content_type, "size": len(image.data)}})
            view.append({"thumb": f"{self.bluesky_url}/img/feed_thumbnail/plain/{did}/{cid}@jpeg",
                         "fullsize": f"{self.bluesky_url}/img/feed_fullsize/plain/{did}/{cid}@jpeg", "alt": "",
                         **ratio})
        return ({"$type": "app.bsky.embed.images", "images": record},
                {"$type": "app.bsky.embed.images#view", "images": view})

    def _bsky_post_view(self, post: FakePost) -> dict:
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": post.text, "langs": ["en"],
                                  "createdAt": _iso_ms(post.created_at)}
        view: dict[str, Any] = {"uri": self._bsky_uri(post), "cid": _fake_cid(post.seq),
                                "author": self._bsky_basic(post.account), "record": record,
                                "replyCount": 0, "repostCount": 0, "likeCount": 3, "quoteCount": 0,
                                "indexedAt": _iso_ms(post.indexed_at or post.created_at), "labels": []}
        if post.reply:
            parent = post.reply_to
            ref = ({"uri": self._bsky_uri(parent), "cid": _fake_cid(parent.seq)} if parent else
                   {"uri": "at://did:plc:someoneelse00000000000000/app.bsky.feed.post/3kabcdefghijk",
                    "cid": _fake_cid(0)})
            record["reply"] = {"root": ref, "parent": ref}
        images_record, images_view = self._bsky_images(post) if post.images else (None, None)
        if post.quote_of is not None:
            quoted = post.quote_of
            strong = {"uri": self._bsky_uri(quoted), "cid": _fake_cid(quoted.seq)}
            quoted_view = {"$type": "app.bsky.embed.record#viewRecord", **strong,
                           "author": self._bsky_basic(quoted.account),
                           "value": {"$type": "app.bsky.feed.post", "text": quoted.text,
                                     "createdAt": _iso_ms(quoted.created_at)},
                           "indexedAt": _iso_ms(quoted.created_at)}
            if images_record:  # a quote post with its own pictures (lexicons/app/bsky/embed/recordWithMedia.json)
                record["embed"] = {"$type": "app.bsky.embed.recordWithMedia", "record": {"record": strong},
                                   "media": images_record}
                view["embed"] = {"$type": "app.bsky.embed.recordWithMedia#view",
                                 "record": {"record": quoted_view}, "media": images_view}
            else:
                record["embed"] = {"$type": "app.bsky.embed.record", "record": strong}
                view["embed"] = {"$type": "app.bsky.embed.record#view", "record": quoted_view}
        elif images_record:
            record["embed"], view["embed"] = images_record, images_view
        return view

    async def _bsky_author_feed(self, request: web.Request) -> web.Response:
        """app.bsky.feed.getAuthorFeed as the AppView serves it (bluesky-social/atproto,
        packages/bsky/src/api/app/bsky/feed/getAuthorFeed.ts and data-plane/server/routes/feeds.ts):
        `posts_with_media` is the author's own posts with images, replies and quote posts with images included,
        reposts not; a page is cut from that skeleton first, then posts that can't be shown (taken down, blocked)
        are dropped, so a page may come back short or empty and still carry a cursor; the cursor is the keyset of
        the page's last skeleton item, so it is given whenever the skeleton page was not empty."""
        q = request.query
        account = self._bsky_actor(q.get("actor", ""))
        if account is None:
            return _json({"error": "InvalidRequest", "message": "Profile not found"}, status=400)
        limit = int(q.get("limit", "50"))
        if not 1 <= limit <= 100:
            return _json({"error": "InvalidRequest", "message": "limit must be between 1 and 100"}, status=400)
        flt = q.get("filter", "posts_with_replies")
        items = []
        for post in reversed(account.posts):
            shown = post.repost_of or post
            if flt == "posts_with_media" and (post.repost_of or not shown.images):
                continue
            if flt == "posts_no_replies" and post.reply and not post.repost_of:
                continue
            items.append(post)
        offset = int(q["cursor"]) if q.get("cursor", "").isdigit() else 0
        skeleton = items[offset:offset + limit]
        feed = []
        for post in skeleton:
            if (post.repost_of or post).hidden:
                continue
            if post.repost_of:
                feed.append({"post": self._bsky_post_view(post.repost_of),
                             "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": self._bsky_basic(account),
                                        "indexedAt": _iso_ms(post.created_at)}})
            else:
                feed.append({"post": self._bsky_post_view(post)})
        body: dict[str, Any] = {"feed": feed}
        if skeleton:
            body["cursor"] = str(offset + len(skeleton))
        return _json(body)

    def _bsky_image(self, did: str, cid: str) -> FakeImage | None:
        account = self._account("bluesky", uid=did)
        for post in account.posts if account else []:
            for image in post.images:
                if _blob_cid(image.data) == cid:
                    return image
        return None

    async def _bsky_cdn(self, request: web.Request) -> web.Response:
        """cdn.bsky.app: a re-encode, never the original file. feed_fullsize fits inside 1000x1000 and
        feed_thumbnail inside 2000x2000, without enlarging (bluesky-social/atproto packages/bsky/src/image/uri.ts)."""
        image = self._bsky_image(request.match_info["did"], request.match_info["cid"])
        if image is None or image.deleted:
            return web.Response(status=404, text="Not Found")
        box = {"feed_fullsize": 1000, "feed_thumbnail": 2000}.get(request.match_info["preset"], 1000)
        with Image.open(io.BytesIO(image.data)) as original:
            picture = original.convert("RGB")
        picture.thumbnail((box, box))
        buf = io.BytesIO()
        picture.save(buf, format="JPEG", quality=80)
        return web.Response(body=buf.getvalue(), content_type="image/jpeg")

    async def _plc_document(self, request: web.Request) -> web.Response:
        """plc.directory/<did>: the DID document, whose #atproto_pds service names the account's PDS
        (https://web.plc.directory/api/redoc, https://atproto.com/specs/did#did-documents)."""
        did = request.match_info["did"]
        account = self._account("bluesky", uid=did)
        if account is None:
            return _json({"message": f"DID not registered: {did}"}, status=404)
        return _json({"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                      "id": did, "alsoKnownAs": [f"at://{account.handle}"],
                      "verificationMethod": [{"id": f"{did}#atproto", "type": "Multikey", "controller": did,
                                              "publicKeyMultibase":
                                                  "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}],
                      "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                   "serviceEndpoint": self.bluesky_pds_url}]})

    async def _pds_get_blob(self, request: web.Request) -> web.Response:
        """com.atproto.sync.getBlob on the PDS: the original bytes as uploaded, with the blob's mime type;
        an unknown or deleted blob is 400 BlobNotFound (lexicons/com/atproto/sync/getBlob.json,
        packages/pds/src/api/com/atproto/sync/getBlob.ts)."""
        image = self._bsky_image(request.query.get("did", ""), request.query.get("cid", ""))
        if image is None or image.deleted:
            return _json({"error": "BlobNotFound", "message": "Blob not found"}, status=400)
        response = await self._media_response(image)
        response.headers.update({"x-content-type-options": "nosniff",
                                 "content-security-policy": "default-src 'none'; sandbox"})
        return response

    # Mastodon -------------------------------------------------------------------------------------------
    def _mastodon_routes(self) -> list[web.RouteDef]:
        return [web.get("/api/v1/accounts/lookup", self._masto_lookup),
                web.get("/api/v1/accounts/{id}/statuses", self._masto_statuses),
                web.get("/api/v1/accounts/{id}", self._masto_account),
                web.get("/api/v1/instance", self._masto_instance_info),
                web.get("/api/v1/instance/", self._masto_instance_info),  # Mastodon.py asks with the slash
                web.get("/.well-known/webfinger", self._masto_webfinger),
                web.get("/system/media_attachments/files/{key}/original.{ext}", self._media)]

    def _masto_auth_error(self, request: web.Request) -> web.Response | None:
        given = request.headers.get("Authorization")
        if given is None or (self.mastodon_token and given == f"Bearer {self.mastodon_token}"):
            return None
        return _json({"error": "The access token is invalid"}, status=401)

    def _masto_instance(self, request: web.Request) -> FakeInstance:
        """The server a request reached, by its host (API host, or the local domain for WebFinger)."""
        for instance in self.mastodon_instances:
            if request.host in (instance.host, instance.local_domain):
                return instance
        return self.mastodon_instances[0]

    def _masto_accounts(self, instance: FakeInstance) -> list[FakeAccount]:
        main = self.mastodon_instances[0]
        return [a for a in self.accounts if a.platform == "mastodon" and (a.instance or main) is instance]

    def _masto_account_json(self, account: FakeAccount) -> dict:
        """The Account entity, https://docs.joinmastodon.org/entities/Account/: `locked` only means follow
        requests are approved by hand (public posts stay public); a suspended account is still answered 200 with
        `suspended: true` and its profile emptied; `fields` are the profile's name/value pairs, values in HTML."""
        base = (account.instance or self.mastodon_instances[0]).url
        body = {"id": account.uid, "username": account.handle, "acct": account.handle,
                "display_name": account.display_name, "locked": account.protected, "bot": False,
                "discoverable": True, "group": False, "created_at": "2022-11-05T00:00:00.000Z",
                "note": f"<p>{_html_escape(account.bio)}</p>" if account.bio else "",
                "url": f"{base}/@{account.handle}", "uri": f"{base}/users/{account.handle}",
                "avatar": f"{base}/avatars/original/missing.png",
                "avatar_static": f"{base}/avatars/original/missing.png",
                "header": f"{base}/headers/original/missing.png",
                "header_static": f"{base}/headers/original/missing.png",
                "followers_count": 10, "following_count": 5, "statuses_count": len(account.posts),
                "last_status_at": "2024-05-01", "emojis": [],
                "fields": [{"name": _html_escape(name), "value": _linkify(value), "verified_at": None}
                           for name, value in account.fields]}
        if account.suspended:
            body.update({"suspended": True, "display_name": "", "note": "", "fields": [], "statuses_count": 0,
                         "followers_count": 0, "following_count": 0})
        return body

    async def _masto_lookup(self, request: web.Request) -> web.Response:
        """GET /api/v1/accounts/lookup?acct=: a local username, or user@domain where the domain may be this
        server's own (https://docs.joinmastodon.org/methods/accounts/#lookup). Usernames of other software can hold
        `.` and `-` (Pixelfed, GoToSocial, Misskey)."""
        if (refused := self._masto_auth_error(request)) is not None:
            return refused
        instance = self._masto_instance(request)
        user, _, domain = request.query.get("acct", "").lstrip("@").partition("@")
        account = None
        if not domain or domain.lower() in (instance.host.lower(), instance.local_domain.lower()):
            account = next((a for a in self._masto_accounts(instance) if a.handle.lower() == user.lower()), None)
        if account is None:
            return _json({"error": "Record not found"}, status=404)
        return _json(self._masto_account_json(account))

    async def _masto_account(self, request: web.Request) -> web.Response:
        if (refused := self._masto_auth_error(request)) is not None:
            return refused
        instance = self._masto_instance(request)
        account = next((a for a in self._masto_accounts(instance) if a.uid == request.match_info["id"]), None)
        if account is None:
            return _json({"error": "Record not found"}, status=404)
        return _json(self._masto_account_json(account))

    async def _masto_instance_info(self, request: web.Request) -> web.Response:
        """GET /api/v1/instance: `uri` is the domain handles use (LOCAL_DOMAIN),
        https://docs.joinmastodon.org/entities/V1_Instance/#uri"""
        instance = self._masto_instance(request)
        return _json({"uri": instance.claimed_domain or instance.local_domain, "title": "Fake Mastodon", "short_description": "",
                      "description": "", "email": "admin@example.invalid", "version": "4.2.10",
                      "urls": {"streaming_api": f"wss://{instance.host}"}, "stats": {}, "thumbnail": None,
                      "languages": ["en"], "registrations": False, "approval_required": False,
                      "invites_enabled": False, "configuration": {}, "contact_account": None, "rules": []})

    async def _masto_webfinger(self, request: web.Request) -> web.Response:
        """WebFinger (RFC 7033) as Mastodon answers it, https://docs.joinmastodon.org/spec/webfinger/: the
        subject is the canonical acct: URI, the `self` link the ActivityPub actor on the server's web domain."""
        instance = self._masto_instance(request)
        resource = request.query.get("resource", "")
        user, _, domain = resource.removeprefix("acct:").lstrip("@").partition("@")
        account = next((a for a in self._masto_accounts(instance) if a.handle.lower() == user.lower()), None)
        if not resource.startswith("acct:") or account is None or \
                domain.lower() not in (instance.host.lower(), instance.local_domain.lower()):
            return web.Response(status=404)
        return web.Response(text=json.dumps({
            "subject": f"acct:{account.handle}@{instance.local_domain}",
            "aliases": [f"{instance.url}/@{account.handle}", f"{instance.url}/users/{account.handle}"],
            "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                       "href": f"{instance.url}/@{account.handle}"},
                      {"rel": "self", "type": "application/activity+json",
                       "href": f"{instance.url}/users/{account.handle}"}]}), content_type="application/jrd+json")

    def _masto_status_json(self, post: FakePost, by: FakeAccount) -> dict:
        base = (by.instance or self.mastodon_instances[0]).url
        reblog = self._masto_status_json(post.repost_of, post.repost_of.account) if post.repost_of else None
        media = [] if post.repost_of else [
            {"id": str(2_000_000 + int(i.key[1:])), "type": "image",
             "url": f"{self.mastodon_url}/system/media_attachments/files/{i.key}/original.{_ext(i)}",
             "preview_url": f"{self.mastodon_url}/system/media_attachments/files/{i.key}/small.{_ext(i)}",
             "remote_url": None, "preview_remote_url": None, "text_url": None, "description": None,
             "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
             "meta": {"original": {"width": i.width, "height": i.height, "size": f"{i.width}x{i.height}",
                                   "aspect": (i.width / i.height) if i.height else 1.0}}} for i in post.images]
        return {"id": post.id, "created_at": _iso_ms(post.created_at), "edited_at": None,
                "in_reply_to_id": post.reply_to.id if post.reply_to else None,
                "in_reply_to_account_id": post.reply_to.account.uid if post.reply_to else None,
                "sensitive": False, "spoiler_text": "", "visibility": post.visibility, "language": "en",
                "uri": f"{base}/users/{by.handle}/statuses/{post.id}",
                "url": f"{base}/@{by.handle}/{post.id}",
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 2,
                "content": "" if post.repost_of else f"<p>{_html_escape(post.text)}</p>",
                "reblog": reblog, "account": self._masto_account_json(by), "media_attachments": media,
                "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}

    async def _masto_statuses(self, request: web.Request) -> web.Response:
        """GET /api/v1/accounts/:id/statuses, https://docs.joinmastodon.org/methods/accounts/#statuses: only what
        the caller may see, so followers-only and direct posts are never listed to us (locked or not); a
        suspended account lists nothing."""
        if (refused := self._masto_auth_error(request)) is not None:
            return refused
        instance = self._masto_instance(request)
        account = next((a for a in self._masto_accounts(instance) if a.uid == request.match_info["id"]), None)
        if account is None:
            return _json({"error": "Record not found"}, status=404)
        q = request.query
        limit = min(int(q.get("limit", "20")), 40)
        only_media = q.get("only_media") in ("true", "1", "True")
        exclude_reblogs = q.get("exclude_reblogs") in ("true", "1", "True")
        max_id = int(q["max_id"]) if q.get("max_id", "").isdigit() else None
        posts = [p for p in reversed(account.posts)
                 if not (exclude_reblogs and p.repost_of)
                 and not (only_media and not (p.repost_of or p).images)
                 and p.visibility in ("public", "unlisted") and not account.suspended
                 and (max_id is None or int(p.id) < max_id)]
        page = posts[:limit]
        response = _json([self._masto_status_json(p, account) for p in page])
        if page:
            base = f"{instance.url}/api/v1/accounts/{account.uid}/statuses"
            keep = {k: v for k, v in q.items() if k not in ("max_id", "min_id", "since_id")}
            links = []
            if len(posts) > limit:
                links.append(f'<{base}?{urlencode({**keep, "max_id": page[-1].id})}>; rel="next"')
            links.append(f'<{base}?{urlencode({**keep, "min_id": page[0].id})}>; rel="prev"')
            response.headers["Link"] = ", ".join(links)
        return response


# helpers ------------------------------------------------------------------------------------------------
_MEDIA_PREFIXES = ("/media/", "/img/", "/system/")
X_WINDOW = 3200  # the user timeline reaches the 3,200 most recent posts...
X_REPLIES_EXCLUDED_WINDOW = 800  # ...or the 800 most recent with exclude=replies (GET /2/users/:id/tweets reference)
X_TEXT_LIMIT = 280  # longer posts carry the rest in note_tweet


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def _too_many(platform: str, reset_in_s: float) -> tuple[web.Response, float]:
    reset = time.time() + reset_in_s
    if platform in ("x", "bluesky"):
        reset = float(int(reset + 0.999))  # both announce whole epoch seconds
    if platform == "x":
        response = _json({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                          "status": 429}, status=429)
        response.headers.update({"x-rate-limit-limit": "1500", "x-rate-limit-remaining": "0",
                                 "x-rate-limit-reset": str(int(reset))})
    elif platform == "bluesky":
        response = _json({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429)
        response.headers.update({"ratelimit-limit": "3000", "ratelimit-remaining": "0",
                                 "ratelimit-reset": str(int(reset)), "ratelimit-policy": "3000;w=300"})
    else:
        response = _json({"error": "Too many requests"}, status=429)
        stamp = datetime.fromtimestamp(reset, tz=timezone.utc)
        response.headers.update({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})
    return response, reset


def _csv(value: str | None) -> set[str]:
    return {part for part in (value or "").split(",") if part}


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ext(image: FakeImage) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}.get(
        image.content_type, "bin")


def _b32(n: int) -> str:
    out = ""
    while True:
        out = _B32[n % 32] + out
        n //= 32
        if not n:
            return out


def _fake_cid(n: int) -> str:
    tail = "".join(_B32[(n * 7 + i * 13) % 32] for i in range(52))
    return "bafyrei" + tail


def _blob_cid(data: bytes) -> str:
    """The CID of a blob as atproto computes it: CIDv1, raw codec, sha2-256, base32 (https://atproto.com/specs/blob)."""
    digest = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(digest).decode().lower().rstrip("=")


def _linkify(value: str) -> str:
    """Profile field values as Mastodon renders them: HTML, links as anchors."""
    if value.startswith(("https://", "http://")):
        shown = value.split("://", 1)[1]
        return f'<a href="{_html_escape(value)}" rel="me nofollow noopener" target="_blank">{_html_escape(shown)}</a>'
    return _html_escape(value)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


__all__ = ["FakeAccount", "FakeImage", "FakeInstance", "FakePost", "FakeSocial", "RecordedRequest"]
