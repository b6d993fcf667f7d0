"""FakeDiscord: a local Discord (REST + gateway) the real discord.py client talks to."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Callable

from aiohttp import web

from .clock import FakeClock
from .entities import (
    MANAGE_GUILD,
    MEMBER_DEFAULT,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Snowflakes,
    iso_now,
)
from .components import file_uploads, stamp_ids
from .gateway import Gateway
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    Upload,
    build_command_data,
    find_command,
    modal_submit_components,
)
from .oauth import OAuthApp
from .records import FakeMessage, InteractionHandle, RecordedFile, RecordedRequest, Signal
from .rest import API, ROUTE_KEYS, RateLimiter, build_app

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's limit for servers without boosts
BOT_DEFAULT_PERMISSIONS = MEMBER_DEFAULT | (1 << 13)  # + Manage Messages


@dataclass
class Injected429:
    retry_after: float
    is_global: bool
    remaining: int


class FakeDiscord:
    """`async with FakeDiscord() as discord:` starts it on 127.0.0.1 with a free port.

    A default guild ("Test Guild", channels #general and #gallery, roles "mimic-moderator" and
    "Server Manager" with Manage Server) holds the users owner, moderator, manager, artist and fan."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        upload_limit_bytes: int = DEFAULT_UPLOAD_LIMIT,
        rate_limit: int = 50,
        rate_window_s: float = 1.0,
        shard_count: int = 1,
        heartbeat_interval_ms: int = 41_250,
        ack_deadline_s: float = 3.0,
        token_lifetime_s: float = 15 * 60,
        moderator_role: str = "mimic-moderator",
    ) -> None:
        self.token = token
        self.upload_limit_bytes = upload_limit_bytes
        self.rate_limit, self.rate_window_s = rate_limit, rate_window_s
        self.rate_limiter = RateLimiter(rate_limit, rate_window_s)
        self.shard_count = shard_count
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.ack_deadline_s = ack_deadline_s
        self.token_lifetime_s = token_lifetime_s
        self.clock = FakeClock()
        self.snowflakes = Snowflakes()
        self.signal = Signal()
        self.gateway = Gateway(self)

        self.bot_user = FakeUser(self.snowflakes.next(), "mimic", bot=True)
        self.application_id = self.bot_user.id
        self.application_flags = 1 << 23  # APPLICATION_COMMAND_BADGE; no privileged intents needed
        self.bot_permissions = BOT_DEFAULT_PERMISSIONS

        self.users: dict[str, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, RecordedFile] = {}
        self.requests: list[RecordedRequest] = []
        self.commands: dict[int | None, list[dict]] = {}
        self.interactions: dict[int, InteractionHandle] = {}
        self.interactions_by_token: dict[str, InteractionHandle] = {}
        self.sync_count = 0
        self.resumes = 0
        self._injected: dict[str, list[Injected429]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.guild = self._build_default_guild(moderator_role)
        self.oauth = OAuthApp()  # "Sign in with Discord": the authorize page, token endpoint, /users/@me (oauth.py)

    # --- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        """What DISCORD_API_BASE should be: http://127.0.0.1:PORT/api/v10"""
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        """What DISCORD_GATEWAY_URL should be: ws://127.0.0.1:PORT/gateway"""
        return self.base_url.replace("http://", "ws://") + "/gateway"

    # --- the world --------------------------------------------------------------------------------

    def _build_default_guild(self, moderator_role: str) -> FakeGuild:
        owner = self.create_user("owner", member_of=None)
        guild = self.add_guild("Test Guild", owner)
        moderator = FakeRole(self.snowflakes.next(), moderator_role, permissions=0, position=2)
        manager = FakeRole(self.snowflakes.next(), "Server Manager", permissions=MANAGE_GUILD, position=3)
        guild.roles[moderator.id] = moderator
        guild.roles[manager.id] = manager
        self.add_channel(guild, "gallery")
        self.create_user("moderator", member_of=guild, roles=[moderator])
        self.create_user("manager", member_of=guild, roles=[manager])
        self.create_user("artist", member_of=guild)
        self.create_user("fan", member_of=guild)
        return guild

    def add_guild(self, name: str, owner: FakeUser, *, preferred_locale: str = "en-US") -> FakeGuild:
        """A new guild with an @everyone role, a #general channel, its owner and the bot as members."""
        guild = FakeGuild(self.snowflakes.next(), name, owner.id, preferred_locale)
        guild.roles[guild.id] = FakeRole(guild.id, "@everyone", permissions=MEMBER_DEFAULT, position=0)
        guild.members[owner.id] = FakeMember(owner)
        guild.members[self.bot_user.id] = FakeMember(self.bot_user)
        self.guilds[guild.id] = guild
        self.add_channel(guild, "general")
        return guild

    def add_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(self.snowflakes.next(), guild.id, name, position=len(guild.channels))
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def create_user(
        self, name: str, *, member_of: FakeGuild | None | str = "default", roles: list[FakeRole] = ()
    ) -> FakeUser:
        """A new user, by default a member of the default guild with the given roles."""
        if name in self.users:
            raise ValueError(f"user {name!r} exists")
        user = FakeUser(self.snowflakes.next(), name, global_name=name.title())
        self.users[name] = user
        guild = self.guild if member_of == "default" else member_of
        if guild is not None:
            guild.members[user.id] = FakeMember(user, [r.id for r in roles])
        return user

    def user(self, name: str) -> FakeUser:
        return self.users[name]

    def user_by_id(self, user_id: int) -> FakeUser | None:
        if user_id == self.bot_user.id:
            return self.bot_user
        return next((u for u in self.users.values() if u.id == user_id), None)

    def channel(self, ref: int | str | FakeChannel) -> FakeChannel:
        """A channel by id, by name in the default guild, or itself."""
        if isinstance(ref, FakeChannel):
            return ref
        if isinstance(ref, str) and not ref.isdigit():
            return self.guild.channel(ref)
        return self.channels[int(ref)]

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient is not None and channel.recipient.id == user.id:
                return channel
        channel = FakeChannel(self.snowflakes.next(), None, "", type=1, recipient=user)
        self.channels[channel.id] = channel
        return channel

    # --- messages and attachments -----------------------------------------------------------------

    def host_attachment(self, channel_id: int, file: RecordedFile | Upload, *, ephemeral: bool = False) -> dict:
        """Store bytes at a URL on this server and return Discord's attachment object for them."""
        stored = file if isinstance(file, RecordedFile) else RecordedFile(file.filename, file.data, file.content_type)
        attachment_id = self.snowflakes.next()
        self.attachments[attachment_id] = stored
        url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{stored.filename}"
        data = {
            "id": str(attachment_id),
            "filename": stored.filename,
            "size": stored.size,
            "url": url,
            "proxy_url": url,
            "content_type": stored.content_type or _guess_type(stored.filename),
        }
        if stored.description:
            data["description"] = stored.description
        if ephemeral:
            data["ephemeral"] = True
        return data

    def _attachments_for(self, channel_id: int, body: dict, files: list[RecordedFile], existing: list[dict]) -> list[dict]:
        """New attachment list: kept existing ones named in body["attachments"], plus uploaded files."""
        declared = body.get("attachments")
        by_index = {str(i): f for i, f in enumerate(files)}
        result: list[dict] = []
        if declared is None:
            result = list(existing)
        else:
            existing_by_id = {a["id"]: a for a in existing}
            for entry in declared:
                key = str(entry.get("id"))
                if key in existing_by_id:
                    result.append(existing_by_id[key])
                elif key in by_index and entry.get("description"):
                    by_index[key].description = entry["description"]
        result += [self.host_attachment(channel_id, f) for f in files]
        return result

    def create_message(
        self,
        channel_id: int,
        body: dict,
        files: list[RecordedFile],
        *,
        source: str,
        interaction: InteractionHandle | None = None,
    ) -> FakeMessage:
        channel = self.channels[channel_id]
        message_id = self.snowflakes.next()
        payload: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.bot_user.payload(),
            "content": body.get("content") or "",
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments_for(channel_id, body, files, []),
            "embeds": body.get("embeds") or [],
            "components": stamp_ids(body.get("components") or []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
        }
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
        if interaction is not None:
            payload["webhook_id"] = str(self.application_id)
            payload["application_id"] = str(self.application_id)
            if interaction.payload["type"] == APPLICATION_COMMAND:
                payload["type"] = 20  # CHAT_INPUT_COMMAND
            user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user")
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.payload["type"],
                "user": user,
                "authorizing_integration_owners": {"0": str(channel.guild_id or 0)},
            }
        if body.get("message_reference"):
            payload["message_reference"] = body["message_reference"]
        message = FakeMessage(
            message_id,
            channel_id,
            payload,
            list(files),
            source=source,
            interaction_id=interaction.id if interaction else None,
        )
        self.messages[message_id] = message
        return message

    def edit_message(self, message: FakeMessage, body: dict, files: list[RecordedFile]) -> None:
        for key in ("content", "embeds", "components", "flags", "allowed_mentions"):
            if key in body:
                message.payload[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        message.payload["components"] = stamp_ids(message.payload.get("components") or [])
        message.payload["attachments"] = self._attachments_for(
            message.channel_id, body, files, message.payload.get("attachments") or []
        )
        kept = {a["filename"] for a in message.payload["attachments"]}
        message.files = [f for f in message.files if f.filename in kept] + list(files)
        message.payload["edited_timestamp"] = iso_now()
        message.edits += 1

    def messages_in(self, channel: int | str | FakeChannel, *, include_deleted: bool = False) -> list[FakeMessage]:
        """Messages in a channel, oldest first (bot-token and interaction messages alike; see .source)."""
        channel_id = self.channel(channel).id
        return [m for m in self.messages.values() if m.channel_id == channel_id and (include_deleted or not m.deleted)]

    async def wait_for_message(
        self,
        channel: int | str | FakeChannel,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The first message in the channel (already there or still to come) matching `predicate`."""
        channel_id = self.channel(channel).id

        def check() -> FakeMessage | None:
            return next((m for m in self.messages_in(channel_id) if predicate is None or predicate(m)), None)

        return await self.signal.wait_for(check, timeout, f"matching message in channel {channel_id}")

    def failed_requests(self) -> list[RecordedRequest]:
        """Every call the fake answered with an error (4xx/5xx, injected 429s included)."""
        return [r for r in self.requests if r.status >= 400]

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """Recorded calls to a discord.py-style route key, e.g. "POST /channels/{channel_id}/messages"."""
        return [r for r in self.requests if r.route == route]

    async def wait_for_request(
        self, route: str, predicate: Callable[[RecordedRequest], bool] | None = None, timeout: float = 5.0
    ) -> RecordedRequest:
        def check() -> RecordedRequest | None:
            return next((r for r in self.requests_to(route) if r.status and (predicate is None or predicate(r))), None)

        return await self.signal.wait_for(check, timeout, f"request {route}")

    # --- application commands ---------------------------------------------------------------------

    def synced_commands(self, guild_id: int | None = None) -> list[dict]:
        """Global commands plus, with a guild id, that guild's commands (guild ones win on a name clash)."""
        guild_cmds = self.commands.get(guild_id, []) if guild_id is not None else []
        names = {c["name"] for c in guild_cmds}
        return guild_cmds + [c for c in self.commands.get(None, []) if c["name"] not in names]

    async def wait_until_connected(self, timeout: float = 10.0, *, identifies: int = 1) -> None:
        """Until clients have IDENTIFIED `identifies` times in all (READY and GUILD_CREATE sent)."""
        await self.signal.wait_for(
            lambda: self.gateway.identify_count >= identifies, timeout, "IDENTIFY on the gateway"
        )

    async def wait_for_sync(self, timeout: float = 10.0, count: int = 1) -> list[dict]:
        """Until the bot has synced its command tree `count` times; returns the global commands."""
        await self.signal.wait_for(lambda: self.sync_count >= count, timeout, "application command sync")
        return self.commands.get(None, [])

    # --- faults -----------------------------------------------------------------------------------

    def inject_429(self, route: str, *, count: int = 1, retry_after: float = 0.1, is_global: bool = False) -> None:
        """Answer the next `count` calls to `route` (e.g. "POST /channels/{channel_id}/messages") with 429."""
        if route not in ROUTE_KEYS:
            raise KeyError(f"unknown route {route!r}; known: {sorted(ROUTE_KEYS)}")
        self._injected.setdefault(route, []).append(Injected429(retry_after, is_global, count))

    def take_injected_429(self, route: str) -> Injected429 | None:
        pending = self._injected.get(route)
        if not pending:
            return None
        current = pending[0]
        current.remaining -= 1
        if current.remaining <= 0:
            pending.pop(0)
        return current

    async def request_reconnect(self) -> None:
        """Gateway op 7: the client reconnects and RESUMEs (see .resumes)."""
        await self.gateway.request_reconnect()

    # --- interactions -----------------------------------------------------------------------------

    def size_limit_for(self, handle: InteractionHandle) -> int:
        return int(handle.payload.get("attachment_size_limit") or self.upload_limit_bytes)

    def _member_of(self, guild: FakeGuild, user: FakeUser | str) -> FakeUser:
        user = self.user(user) if isinstance(user, str) else user
        if user.id not in guild.members:
            raise KeyError(f"{user.username} is not a member of {guild.name}")
        return user

    def _interaction_payload(
        self,
        kind: int,
        data: dict,
        *,
        user: FakeUser | str,
        channel: int | str | FakeChannel,
        locale: str,
        permissions: int | None,
        app_permissions: int | None,
        attachment_size_limit: int | None,
        message: FakeMessage | None = None,
    ) -> tuple[int, str, dict]:
        interaction_id, token = self.snowflakes.next(), "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        chan = self.channel(channel)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(chan.id),
            "channel": chan.payload(),
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(self.bot_permissions if app_permissions is None else app_permissions),
            "entitlements": [],
            "attachment_size_limit": attachment_size_limit or self.upload_limit_bytes,
        }
        if chan.guild_id is not None:
            guild = self.guilds[chan.guild_id]
            member_user = self._member_of(guild, user)
            perms = guild.permissions_of(member_user.id) if permissions is None else permissions
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=guild.members[member_user.id].payload(permissions=perms),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            member_user = self.user(user) if isinstance(user, str) else user
            payload.update(user=member_user.payload(), authorizing_integration_owners={"1": str(member_user.id)}, context=1)
        if message is not None:
            payload["message"] = message.payload
        return interaction_id, token, payload

    async def _send_interaction(self, interaction_id: int, token: str, payload: dict) -> InteractionHandle:
        handle = InteractionHandle(
            id=interaction_id, token=token, payload=payload, sent_at=self.clock.now()
        )
        self.interactions[interaction_id] = handle
        self.interactions_by_token[token] = handle
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload, guild_id):
            raise RuntimeError("no bot is connected to the fake gateway (await discord.wait_until_connected())")
        return handle

    async def inject_slash_command(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | str = "fan",
        channel: int | str | FakeChannel = "general",
        locale: str = "en-US",
        permissions: int | None = None,
        app_permissions: int | None = None,
        attachment_size_limit: int | None = None,
    ) -> InteractionHandle:
        """Send INTERACTION_CREATE for `/command` ("maker create" for sub-commands) with `options`.

        Option values: str/int/float/bool, FakeUser, FakeRole, FakeChannel, Upload(filename, data) for
        attachments. Types come from the synced command tree when the bot has synced."""
        chan = self.channel(channel)
        guild = self.guilds.get(chan.guild_id) if chan.guild_id else None
        data = build_command_data(self, command, options or {}, guild=guild, channel_id=chan.id)
        ids = self._interaction_payload(
            APPLICATION_COMMAND,
            data,
            user=user,
            channel=chan,
            locale=locale,
            permissions=permissions,
            app_permissions=app_permissions,
            attachment_size_limit=attachment_size_limit,
        )
        return await self._send_interaction(*ids)

    async def inject_autocomplete(
        self,
        command: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser | str = "fan",
        channel: int | str | FakeChannel = "general",
        locale: str = "en-US",
    ) -> InteractionHandle:
        """The user is typing option `focused` of `/command` (its partial text is options[focused]);
        await handle.wait_autocomplete() for the choices the bot offers."""
        chan = self.channel(channel)
        guild = self.guilds.get(chan.guild_id) if chan.guild_id else None
        typed = {k: v for k, v in options.items() if k != focused}
        data = build_command_data(self, command, typed, guild=guild, channel_id=chan.id, check_required=False)
        leaf = data["options"]
        while leaf and leaf[0]["type"] in (1, 2):
            leaf = leaf[0]["options"]
        _, node = find_command(self.synced_commands(guild.id if guild else None), command.split())
        declared = next((o for o in (node or {}).get("options") or [] if o["name"] == focused), None)
        if node is not None and (declared is None or not declared.get("autocomplete")):
            # Discord's client only asks for choices of an option declared with autocomplete: true
            raise KeyError(f"/{command} option {focused!r} is not declared with autocomplete")
        declared = declared or {"type": 3}
        leaf.append({"name": focused, "type": declared["type"], "value": str(options.get(focused, "")), "focused": True})
        ids = self._interaction_payload(
            AUTOCOMPLETE, data, user=user, channel=chan, locale=locale, permissions=None,
            app_permissions=None, attachment_size_limit=None,
        )
        return await self._send_interaction(*ids)

    async def inject_message_command(
        self,
        name: str,
        message: FakeMessage | int,
        *,
        user: FakeUser | str = "fan",
        locale: str = "en-US",
        permissions: int | None = None,
    ) -> InteractionHandle:
        """A message context-menu command ("Apps > name" on `message`)."""
        msg = message if isinstance(message, FakeMessage) else self.messages[int(message)]
        chan = self.channels[msg.channel_id]
        commands = self.synced_commands(chan.guild_id)
        synced = next((c for c in commands if c["name"] == name and c.get("type") == 3), None)
        data = {
            "id": synced["id"] if synced else str(self.snowflakes.next()),
            "name": name,
            "type": 3,
            "target_id": str(msg.id),
            "resolved": {"messages": {str(msg.id): msg.payload}},
        }
        ids = self._interaction_payload(
            APPLICATION_COMMAND, data, user=user, channel=chan, locale=locale, permissions=permissions,
            app_permissions=None, attachment_size_limit=None,
        )
        return await self._send_interaction(*ids)

    async def inject_component(
        self,
        message: FakeMessage | int,
        custom_id: str,
        *,
        user: FakeUser | str = "fan",
        values: list[str] | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
        attachment_size_limit: int | None = None,
    ) -> InteractionHandle:
        """A click on the button (or a choice in the select menu, with `values`) `custom_id` of `message`."""
        msg = message if isinstance(message, FakeMessage) else self.messages[int(message)]
        component = _find_component(msg.components, custom_id)
        if component is None:
            raise KeyError(f"message {msg.id} has no component {custom_id!r}; it has {msg.custom_ids()}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None or component["type"] != 2:
            data["values"] = list(values or [])
        ids = self._interaction_payload(
            MESSAGE_COMPONENT,
            data,
            user=user,
            channel=msg.channel_id,
            locale=locale,
            permissions=permissions,
            app_permissions=None,
            attachment_size_limit=attachment_size_limit,
            message=msg,
        )
        return await self._send_interaction(*ids)

    async def inject_modal_submit(
        self,
        answered: InteractionHandle,
        values: dict[str, Any],
        *,
        locale: str | None = None,
    ) -> InteractionHandle:
        """Submit the modal the bot opened in answer to `answered` (wait for it with answered.wait_modal()),
        as the same user in the same channel, with `values` by component custom_id: text for a text input,
        a list of values for a select or checkbox group, a bool for a checkbox, a list of Upload for a file upload.

        Uploaded files are hosted like any attachment and sent as Discord does: the component's `values` are
        attachment ids, resolved in `data.resolved.attachments` (components/reference#file-upload). Discord's
        client lets no one pick more files than `max_values` nor submit a required upload empty: neither is sent."""
        if answered.modal is None:
            raise RuntimeError(f"interaction {answered.id} has not been answered with a modal")
        source = answered.payload
        user = self.user_by_id(int((source.get("member") or {}).get("user", source.get("user"))["id"]))
        resolved: dict[str, dict] = {}
        submitted = dict(values)
        for custom_id, upload in file_uploads(answered.modal).items():
            files = list(values.get(custom_id) or [])
            low, high = upload.get("min_values", 1), upload.get("max_values", 1)
            if len(files) > high or (upload.get("required", True) and len(files) < max(low, 1)) or (
                    files and len(files) < low):
                raise ValueError(f"file upload {custom_id!r} takes {low}–{high} files, not {len(files)}")
            ids = []
            for file in files:
                attachment = self.host_attachment(int(source["channel_id"]), file, ephemeral=True)
                resolved[attachment["id"]] = attachment
                ids.append(attachment["id"])
            submitted[custom_id] = ids
        data: dict[str, Any] = {
            "custom_id": answered.modal["custom_id"],
            "components": modal_submit_components(answered.modal, submitted),
        }
        if resolved:
            data["resolved"] = {"attachments": resolved}
        ids = self._interaction_payload(
            MODAL_SUBMIT,
            data,
            user=user,
            channel=int(source["channel_id"]),
            locale=locale or source.get("locale", "en-US"),
            permissions=int(source["member"]["permissions"]) if source.get("member") else None,
            app_permissions=None,
            attachment_size_limit=source.get("attachment_size_limit"),
            message=self.messages.get(int(source["message"]["id"])) if source.get("message") else None,
        )
        return await self._send_interaction(*ids)

    async def dispatch(self, event: str, data: dict, guild_id: int | None = None) -> int:
        """Send any gateway dispatch (escape hatch); returns the number of sessions that got it."""
        return await self.gateway.dispatch(event, data, guild_id)


def _find_component(items: list[dict], custom_id: str) -> dict | None:
    for item in items:
        if item.get("custom_id") == custom_id:
            return item
        for key in ("components",):
            found = _find_component(item.get(key) or [], custom_id)
            if found:
                return found
        for key in ("accessory", "component"):
            if isinstance(item.get(key), dict):
                found = _find_component([item[key]], custom_id)
                if found:
                    return found
    return None


def _guess_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
