"""The fake Discord refuses what Discord refuses about components, modals and autocomplete results (the rules
and their sources are in tests/fakes/discord_fake/components.py), and sends modal file uploads as Discord does."""
from __future__ import annotations

import aiohttp
import pytest

from tests.discord_harness.harness_bot import HarnessBot
from tests.fakes.discord_fake.components import IS_COMPONENTS_V2
from tests.fakes.discord_server import FakeDiscord, Upload


def _card(*children: dict) -> dict:
    return {"flags": IS_COMPONENTS_V2, "components": [{"type": 17, "components": list(children)}]}


TEXT = {"type": 10, "content": "hello"}


async def _call(fake: FakeDiscord, method: str, path: str, body: dict, *, bot_token: bool = True):
    headers = {"Authorization": f"Bot {fake.token}"} if bot_token else {}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, fake.api_base + path, json=body, headers=headers) as response:
            return response.status, (await response.json() if response.status != 204 else None)


async def test_components_v2_messages_follow_discords_rules(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    channel = fake_discord.channel("general").id
    path = f"/channels/{channel}/messages"
    status, sent = await _call(fake_discord, "POST", path, _card(TEXT, {"type": 1, "components": [
        {"type": 2, "style": 1, "label": "go", "custom_id": "go"}]}))
    assert status == 200 and [c.get("id") for c in sent["components"][0]["components"]] == [2, 3]  # ids filled in

    refused = {
        "content with the flag": _card(TEXT) | {"content": "hi"},
        "embeds with the flag": _card(TEXT) | {"embeds": [{"title": "x"}]},
        "41 components": _card(*[TEXT] * 40),
        "4001 characters of text": _card({"type": 10, "content": "x" * 4001}),
        "an empty media gallery": _card({"type": 12, "items": []}),
        "11 media gallery items": _card({"type": 12, "items": [{"media": {"url": "https://x/a.png"}}] * 11}),
        "6 buttons in a row": _card({"type": 1, "components": [
            {"type": 2, "style": 1, "label": str(i), "custom_id": str(i)} for i in range(6)]}),
        "a container without the flag": {"components": [{"type": 17, "components": [TEXT]}]},
        "6 action rows without the flag": {"content": "x", "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "a", "custom_id": f"b{i}"}]}
            for i in range(6)]},
        "a file upload in a message": _card({"type": 18, "label": "x", "component": {"type": 19, "custom_id": "f"}}),
    }
    for what, body in refused.items():
        status, error = await _call(fake_discord, "POST", path, body)
        assert (status, error["code"]) == (400, 50035), what

    message = f"{path}/{sent['id']}"
    status, error = await _call(fake_discord, "PATCH", message, {"flags": 0, "content": "back to text"})
    assert status == 400 and "flags" in error["errors"]  # the flag stays once sent
    status, error = await _call(fake_discord, "PATCH", message, {"content": "text"})
    assert status == 400 and "content" in error["errors"]
    status, _ = await _call(fake_discord, "PATCH", message, {"components": _card(TEXT)["components"]})
    assert status == 200


async def _callback(fake: FakeDiscord, handle, kind: int, data: dict):
    return await _call(fake, "POST", f"/interactions/{handle.id}/{handle.token}/callback",
                       {"type": kind, "data": data}, bot_token=False)


def _upload_modal(max_values: int = 2, *, in_label: bool = True) -> dict:
    upload = {"type": 19, "custom_id": "files", "min_values": 1, "max_values": max_values}
    top = {"type": 18, "label": "Your files", "component": upload} if in_label else {"type": 1,
                                                                                    "components": [upload]}
    return {"custom_id": "form", "title": "Upload", "components": [top]}


async def test_interaction_callbacks_follow_discords_rules(fake_discord: FakeDiscord, bot: HarnessBot) -> None:
    # a command the harness bot does not know: it stays silent and the test answers by hand
    handle = await fake_discord.inject_slash_command("nobody-answers")
    status, _ = await _callback(fake_discord, handle, 8, {"choices": []})
    assert status == 400  # choices answer an autocomplete only
    for modal in (_upload_modal(in_label=False), _upload_modal(11),
                  _upload_modal() | {"title": "x" * 46},
                  _upload_modal() | {"components": _upload_modal()["components"] * 6}):
        status, error = await _callback(fake_discord, handle, 9, modal)
        assert (status, error["code"]) == (400, 50035), modal
    assert not handle.acknowledged
    status, _ = await _callback(fake_discord, handle, 9, _upload_modal())
    assert status == 204 and handle.modal["custom_id"] == "form"

    with pytest.raises(ValueError):  # Discord's client lets nobody pick more files than max_values
        await fake_discord.inject_modal_submit(handle, {"files": [Upload(f"{i}.png", b"x") for i in range(3)]})
    submitted = await fake_discord.inject_modal_submit(handle, {"files": [Upload("a.png", b"one"),
                                                                          Upload("b.png", b"two")]})
    data = submitted.payload["data"]
    ids = data["components"][0]["component"]["values"]
    attachments = data["resolved"]["attachments"]
    assert len(ids) == 2 and set(attachments) == set(ids)
    async with aiohttp.ClientSession() as http:
        async with http.get(attachments[ids[1]]["url"]) as response:
            assert await response.read() == b"two"
    status, _ = await _callback(fake_discord, submitted, 9, _upload_modal())
    assert status == 400  # a modal cannot answer a modal's submission

    typing = await fake_discord.inject_autocomplete("nobody-answers", {"q": "a"}, focused="q")
    status, _ = await _callback(fake_discord, typing, 5, {})
    assert status == 400  # an autocomplete cannot be deferred
    status, _ = await _callback(fake_discord, typing, 8, {"choices": [{"name": str(i), "value": str(i)}
                                                                     for i in range(26)]})
    assert status == 400
    status, _ = await _callback(fake_discord, typing, 8, {"choices": [{"name": "aoi", "value": "aoi"}]})
    assert status == 204 and typing.autocomplete == [{"name": "aoi", "value": "aoi"}]


async def test_autocomplete_is_only_sent_for_options_declared_with_it(fake_discord: FakeDiscord,
                                                                      bot: HarnessBot) -> None:
    await fake_discord.wait_for_sync()
    with pytest.raises(KeyError):
        await fake_discord.inject_autocomplete("render", {"prompt": "a"}, focused="prompt")
