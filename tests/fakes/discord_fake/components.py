"""Discord's rules for message components, modals and autocomplete results, as its API enforces them.

Sources (facts, not code):
  * https://discord.com/developers/docs/components/reference — component types; IS_COMPONENTS_V2 (1 << 15)
    turns `content` and `embeds` off (poll and stickers too), allows up to 40 components in all (nested ones
    count), at most 4000 characters across every Text Display, Media Gallery of 1–10 items, Action Row of up to
    5 buttons; the flag cannot be taken off a message once sent. Without the flag a message holds up to 5 Action
    Rows and nothing else at the top level. Modals: Label (type 18) holds one component; File Upload (type 19)
    only inside a Label, `max_values` 1–10 and `min_values` 0–10. `id`s left empty are filled in sequentially.
  * https://discord.com/developers/docs/interactions/receiving-and-responding — modal: `title` at most 45
    characters, `custom_id` at most 100, 1–5 components; APPLICATION_COMMAND_AUTOCOMPLETE_RESULT (8) answers only
    an autocomplete interaction (type 4), with up to 25 choices; MODAL (9) is not available for MODAL_SUBMIT.
  * https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-
    command-option-choice-structure — a choice's name is 1–100 characters, a string value at most 100.
"""
from __future__ import annotations

from typing import Any, Iterator

IS_COMPONENTS_V2 = 1 << 15

ACTION_ROW, BUTTON, TEXT_INPUT = 1, 2, 4
SECTION, TEXT_DISPLAY, THUMBNAIL, MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER, LABEL, FILE_UPLOAD = (
    9, 10, 11, 12, 13, 14, 17, 18, 19)
SELECTS = {3, 5, 6, 7, 8}

MAX_TOP_LEVEL_LEGACY = 5
MAX_V2_COMPONENTS = 40
MAX_V2_TEXT = 4000
MAX_ROW_BUTTONS = 5
MAX_GALLERY_ITEMS = 10
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
MAX_CUSTOM_ID = 100
MAX_LABEL_TEXT = 45
MAX_FILE_UPLOAD_VALUES = 10
MAX_CHOICES = 25
MAX_CHOICE_TEXT = 100


class ComponentRuleBroken(Exception):
    """(field, code, message) for Discord's 400/50035 Invalid Form Body."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


def walk(items: list[dict]) -> Iterator[dict]:
    """Every component, depth first, however it is nested (rows, containers, sections, labels)."""
    for item in items or []:
        yield item
        yield from walk(item.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(item.get(key), dict):
                yield from walk([item[key]])


def check_message_components(body: dict, *, was_v2: bool = False) -> None:
    """Raise ComponentRuleBroken where Discord would refuse the message body (a new message or an edit)."""
    components = body.get("components") or []
    v2 = bool(int(body.get("flags") or 0) & IS_COMPONENTS_V2)
    if was_v2 and "flags" in body and not v2:
        raise ComponentRuleBroken("flags", "MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG",
                                  "The IS_COMPONENTS_V2 flag cannot be removed from a message")
    if v2 or was_v2:
        _check_v2(body, components)
    else:
        _check_legacy(components)


def _check_legacy(components: list[dict]) -> None:
    if len(components) > MAX_TOP_LEVEL_LEGACY:
        raise ComponentRuleBroken("components", "BASE_TYPE_MAX_LENGTH",
                                  f"Must be {MAX_TOP_LEVEL_LEGACY} or fewer in length.")
    for index, row in enumerate(components):
        if row.get("type") != ACTION_ROW:
            raise ComponentRuleBroken(f"components.{index}", "UNION_TYPE_CHOICES",
                                      "Value of field \"type\" must be one of (1,): components other than action "
                                      "rows need the IS_COMPONENTS_V2 flag")
        _check_row(row, f"components.{index}")


def _check_row(row: dict, where: str) -> None:
    children = row.get("components") or []
    if not 1 <= len(children) <= MAX_ROW_BUTTONS:
        raise ComponentRuleBroken(f"{where}.components", "BASE_TYPE_BAD_LENGTH",
                                  f"Must be between 1 and {MAX_ROW_BUTTONS} in length.")
    if any(c.get("type") in SELECTS for c in children) and len(children) > 1:
        raise ComponentRuleBroken(f"{where}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                                  "The specified component exceeds the maximum width")


def _check_v2(body: dict, components: list[dict]) -> None:
    for field in ("content", "embeds", "poll", "sticker_ids"):
        if body.get(field):
            raise ComponentRuleBroken(field, "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                                      f"The '{field}' field cannot be used when using the IS_COMPONENTS_V2 flag")
    every = list(walk(components))
    if len(every) > MAX_V2_COMPONENTS:
        raise ComponentRuleBroken("components", "BASE_TYPE_MAX_LENGTH",
                                  f"Must be {MAX_V2_COMPONENTS} or fewer components in total.")
    text = sum(len(c.get("content") or "") for c in every if c.get("type") == TEXT_DISPLAY)
    if text > MAX_V2_TEXT:
        raise ComponentRuleBroken("components", "BASE_TYPE_MAX_LENGTH",
                                  f"Text displays must hold {MAX_V2_TEXT} or fewer characters in total.")
    for index, item in enumerate(every):
        kind = item.get("type")
        if kind == MEDIA_GALLERY and not 1 <= len(item.get("items") or []) <= MAX_GALLERY_ITEMS:
            raise ComponentRuleBroken(f"components.{index}.items", "BASE_TYPE_BAD_LENGTH",
                                      f"Must be between 1 and {MAX_GALLERY_ITEMS} in length.")
        if kind == ACTION_ROW:
            _check_row(item, f"components.{index}")
        if kind in (LABEL, FILE_UPLOAD, TEXT_INPUT):
            raise ComponentRuleBroken(f"components.{index}.type", "COMPONENT_TYPE_INVALID",
                                      f"Component type {kind} can only be used in modals")


def media_references(components: list[dict]) -> list[str]:
    """The `attachment://name` URLs a V2 message shows (its attachments show only where referenced)."""
    found = []
    for item in walk(components):
        media = [entry.get("media") for entry in item.get("items") or []] + [item.get("media"), item.get("file")]
        found += [m["url"] for m in media if isinstance(m, dict) and str(m.get("url", "")).startswith("attachment://")]
    return found


def stamp_ids(components: list[dict]) -> list[dict]:
    """Fill in the `id`s left empty, sequentially and without reusing one the bot chose, as Discord does."""
    taken = {c["id"] for c in walk(components) if c.get("id")}
    counter = 0
    for item in walk(components):
        if not item.get("id"):
            counter += 1
            while counter in taken:
                counter += 1
            item["id"] = counter
    return components


def check_modal(data: dict) -> None:
    title, custom_id = data.get("title") or "", data.get("custom_id") or ""
    if not 1 <= len(title) <= MAX_MODAL_TITLE:
        raise ComponentRuleBroken("data.title", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_MODAL_TITLE}.")
    if not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
        raise ComponentRuleBroken("data.custom_id", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_CUSTOM_ID}.")
    components = data.get("components") or []
    if not 1 <= len(components) <= MAX_MODAL_COMPONENTS:
        raise ComponentRuleBroken("data.components", "BASE_TYPE_BAD_LENGTH",
                                  f"Must be between 1 and {MAX_MODAL_COMPONENTS} in length.")
    for index, top in enumerate(components):
        where = f"data.components.{index}"
        kind = top.get("type")
        if kind == LABEL:
            if not 1 <= len(top.get("label") or "") <= MAX_LABEL_TEXT:
                raise ComponentRuleBroken(f"{where}.label", "BASE_TYPE_BAD_LENGTH",
                                          f"Must be between 1 and {MAX_LABEL_TEXT} in length.")
            _check_modal_input(top.get("component") or {}, f"{where}.component")
        elif kind == ACTION_ROW:  # the older form: one text input per row
            for inner in top.get("components") or []:
                if inner.get("type") == FILE_UPLOAD:
                    raise ComponentRuleBroken(where, "COMPONENT_TYPE_INVALID", "A file upload must be in a label")
                _check_modal_input(inner, where)
        elif kind != TEXT_DISPLAY:
            raise ComponentRuleBroken(f"{where}.type", "COMPONENT_TYPE_INVALID",
                                      f"Component type {kind} cannot be used at the top of a modal")


def _check_modal_input(component: dict, where: str) -> None:
    if not 1 <= len(component.get("custom_id") or "") <= MAX_CUSTOM_ID:
        raise ComponentRuleBroken(f"{where}.custom_id", "BASE_TYPE_BAD_LENGTH",
                                  f"Must be between 1 and {MAX_CUSTOM_ID} in length.")
    if component.get("type") == FILE_UPLOAD:
        high, low = component.get("max_values", 1), component.get("min_values", 1)
        if not 1 <= high <= MAX_FILE_UPLOAD_VALUES or not 0 <= low <= min(high, MAX_FILE_UPLOAD_VALUES):
            raise ComponentRuleBroken(f"{where}.max_values", "NUMBER_TYPE_MAX",
                                      f"File uploads take 0 to {MAX_FILE_UPLOAD_VALUES} files (min ≤ max).")


def check_choices(choices: Any) -> None:
    if not isinstance(choices, list) or len(choices) > MAX_CHOICES:
        raise ComponentRuleBroken("data.choices", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length.")
    for index, choice in enumerate(choices):
        name, value = str(choice.get("name") or ""), choice.get("value")
        if not 1 <= len(name) <= MAX_CHOICE_TEXT:
            raise ComponentRuleBroken(f"data.choices.{index}.name", "BASE_TYPE_BAD_LENGTH",
                                      f"Must be between 1 and {MAX_CHOICE_TEXT} in length.")
        if isinstance(value, str) and len(value) > MAX_CHOICE_TEXT:
            raise ComponentRuleBroken(f"data.choices.{index}.value", "BASE_TYPE_MAX_LENGTH",
                                      f"Must be {MAX_CHOICE_TEXT} or fewer in length.")


def file_uploads(modal: dict) -> dict[str, dict]:
    """custom_id -> the File Upload components of a modal the bot sent."""
    return {c["custom_id"]: c for c in walk(modal.get("components") or []) if c.get("type") == FILE_UPLOAD}
