"""Building INTERACTION_CREATE payloads the way Discord sends them.

Option values are typed from the command tree the bot synced (as Discord does); without a synced tree the
type is inferred from the Python value."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .entities import FakeChannel, FakeGuild, FakeRole, FakeUser

if TYPE_CHECKING:
    from .server import FakeDiscord

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11

# interaction types
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5


@dataclass
class Upload:
    """A file a user attaches to a slash command option; the fake serves its bytes at the attachment URL."""

    filename: str
    data: bytes
    content_type: str | None = None


def find_command(commands: list[dict], path: list[str]) -> tuple[dict | None, dict | None]:
    """(top-level command, the option list node for the leaf) for "maker create" style paths."""
    top = next((c for c in commands if c.get("name") == path[0] and c.get("type", 1) == 1), None)
    node = top
    for part in path[1:]:
        if node is None:
            return top, None
        node = next((o for o in node.get("options") or [] if o.get("name") == part), None)
    return top, node


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeUser):
        return USER
    if isinstance(value, FakeRole):
        return ROLE
    if isinstance(value, FakeChannel):
        return CHANNEL
    if isinstance(value, Upload):
        return ATTACHMENT
    return STRING


class CommandDataBuilder:
    """Turns {"name": value} into Discord's `data.options` plus `data.resolved`."""

    def __init__(self, server: FakeDiscord, guild: FakeGuild | None, channel_id: int) -> None:
        self.server = server
        self.guild = guild
        self.channel_id = channel_id
        self.resolved: dict[str, dict] = {}

    def _resolve(self, kind: str, key: int, value: dict) -> None:
        self.resolved.setdefault(kind, {})[str(key)] = value

    def option(self, name: str, value: Any, declared: dict | None) -> dict:
        if declared is None:
            kind = _infer_type(value)
        else:
            kind = declared["type"]
            choices = declared.get("choices")
            if choices and value not in [c["value"] for c in choices]:
                raise ValueError(f"option {name!r}: {value!r} is not one of the declared choices")
        if kind == STRING:
            out: Any = str(value)
        elif kind == INTEGER:
            out = int(value)
        elif kind == NUMBER:
            out = float(value)
        elif kind == BOOLEAN:
            out = bool(value)
        elif kind in (USER, MENTIONABLE) and isinstance(value, FakeUser):
            out = str(value.id)
            self._resolve("users", value.id, value.payload())
            member = self.guild.members.get(value.id) if self.guild else None
            if member is not None:
                perms = self.guild.permissions_of(value.id)
                self._resolve("members", value.id, member.payload(with_user=False, permissions=perms))
        elif kind in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
            out = str(value.id)
            self._resolve("roles", value.id, value.payload())
        elif kind == CHANNEL:
            channel = value if isinstance(value, FakeChannel) else self.server.channel(int(value))
            out = str(channel.id)
            entry = channel.payload() | {"permissions": str(self.server.bot_permissions)}
            self._resolve("channels", channel.id, entry)
        elif kind == ATTACHMENT:
            if not isinstance(value, Upload):
                raise TypeError(f"option {name!r} is an attachment: pass an Upload(filename, data)")
            attachment = self.server.host_attachment(self.channel_id, value, ephemeral=True)
            out = attachment["id"]
            self._resolve("attachments", int(attachment["id"]), attachment)
        else:
            raise TypeError(f"option {name!r}: cannot send {value!r} as option type {kind}")
        return {"name": name, "type": kind, "value": out}

    def options(self, values: dict[str, Any], declared_node: dict | None, *, check_required: bool = True) -> list[dict]:
        declared = {o["name"]: o for o in (declared_node or {}).get("options") or []} if declared_node else None
        if declared is not None:
            unknown = set(values) - set(declared)
            if unknown:
                raise KeyError(f"options {sorted(unknown)} are not declared; declared: {sorted(declared)}")
            missing = [n for n, o in declared.items() if o.get("required") and n not in values]
            if missing and check_required:
                raise KeyError(f"required options {missing} are missing")
        return [self.option(n, v, declared.get(n) if declared else None) for n, v in values.items()]


def build_command_data(
    server: FakeDiscord,
    path: str,
    values: dict[str, Any],
    *,
    guild: FakeGuild | None,
    channel_id: int,
    command_type: int = 1,
    check_required: bool = True,
) -> dict:
    parts = path.split()
    top, leaf = find_command(server.synced_commands(guild.id if guild else None), parts)
    if top is not None and leaf is None:
        raise KeyError(f"/{path}: {parts[0]!r} is synced but has no sub-command path {parts[1:]}")
    builder = CommandDataBuilder(server, guild, channel_id)
    options = builder.options(values, leaf if top is not None else None, check_required=check_required)
    # wrap leaf options in their sub-command (and group) nodes
    if len(parts) == 3:
        options = [{"name": parts[1], "type": SUB_COMMAND_GROUP, "options": [{"name": parts[2], "type": SUB_COMMAND, "options": options}]}]
    elif len(parts) == 2:
        options = [{"name": parts[1], "type": SUB_COMMAND, "options": options}]
    data: dict[str, Any] = {
        "id": (top or {}).get("id") or str(server.snowflakes.next()),
        "name": parts[0],
        "type": command_type,
        "options": options,
    }
    if top is not None and top.get("guild_id"):
        data["guild_id"] = top["guild_id"]
    if builder.resolved:
        data["resolved"] = builder.resolved
    return data


def modal_submit_components(modal: dict | None, values: dict[str, str]) -> list[dict]:
    """Echo the structure of the modal the bot sent (action rows or labels), filled with `values`."""
    if not modal:
        return [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    out: list[dict] = []
    for row in modal.get("components") or []:
        if row.get("type") == 1:
            inner = [
                {"type": c["type"], "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")}
                for c in row.get("components") or []
                if c.get("custom_id")
            ]
            out.append({"type": 1, "components": inner})
        elif row.get("type") == 18 and isinstance(row.get("component"), dict):
            c = row["component"]
            submitted: dict[str, Any] = {"type": c["type"], "id": c.get("id", 0), "custom_id": c.get("custom_id")}
            if c["type"] == 4:
                submitted["value"] = values.get(c.get("custom_id"), "")
            elif c["type"] == 23:  # checkbox: a boolean value
                submitted["value"] = bool(values.get(c.get("custom_id"), c.get("default", False)))
            else:  # selects, checkbox groups and file uploads (attachment ids)
                submitted["values"] = values.get(c.get("custom_id"), [])
            out.append({"type": 18, "id": row.get("id", 0), "component": submitted})
        elif row.get("type") == 10:  # a text display is echoed with its id only
            out.append({"type": 10, "id": row.get("id", 0)})
    return out
