"""The command tree offline (`mimic bot commands --json`), its localisations, and the message catalogue."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.i18n import MESSAGES, language, t

ROOT = Path(__file__).resolve().parents[2]
NAME_RULE = re.compile(r"^[-_\w]{1,32}$")  # Discord: letters of any script, digits, - and _


@pytest.fixture(scope="module")
def tree() -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    env.update(DISCORD_API_BASE="http://127.0.0.1:9/unreachable", VAR_DIR=str(ROOT / "var" / "tree-test"))
    done = subprocess.run([sys.executable, "-m", "bot.cli", "bot", "commands", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _leaves(command: dict, prefix: str = ""):
    path = f"{prefix} {command['name']}".strip()
    subs = [o for o in command.get("options", []) if o["type"] in (1, 2)]
    if not subs:
        yield path, command
    for sub in subs:
        yield from _leaves(sub, path)


def test_the_tree_has_exactly_the_issue_5_commands(tree):
    paths = sorted(p for command in tree for p, _ in _leaves(command))
    assert paths == sorted([
        "verify start", "verify check", "verify status", "maker create", "maker settings", "maker list",
        "maker revoke", "generate", "remake", "gallery", "artist", "report", "trace", "review queue",
        "review approve", "review reject", "takedown", "ban", "server settings", "protect posts", "protect files",
        # issue 11: ownership disputes and provenance overrides
        "review disputes", "review decide", "review suspended", "review settle", "review allow_file", "contest"])


def test_every_name_and_description_has_a_japanese_localisation(tree):
    def walk(node: dict, where: str) -> None:
        assert node.get("name_localizations", {}).get("ja"), f"{where}: no Japanese name"
        assert node.get("description_localizations", {}).get("ja"), f"{where}: no Japanese description"
        ja = node["name_localizations"]["ja"]
        assert NAME_RULE.match(ja) and ja == ja.lower(), f"{where}: {ja!r} is not a valid command name"
        assert len(node["description_localizations"]["ja"]) <= 100
        siblings = [o["name_localizations"]["ja"] for o in node.get("options", [])]
        assert len(siblings) == len(set(siblings)), f"{where}: clashing Japanese option names {siblings}"
        for option in node.get("options", []):
            walk(option, f"{where} {option['name']}")
    for command in tree:
        walk(command, command["name"])


def test_maker_create_takes_a_name_and_from_posts_the_images_come_in_its_form(tree):
    maker = next(c for c in tree if c["name"] == "maker")
    create = next(o for o in maker["options"] if o["name"] == "create")
    assert [(o["name"], o["type"]) for o in create["options"]] == [("name", 3), ("from_posts", 5)]
    protect = next(c for c in tree if c["name"] == "protect")
    assert next(o for o in protect["options"] if o["name"] == "files").get("options", []) == []


def test_every_command_is_guild_only_and_maker_names_autocomplete(tree):
    assert all(c["contexts"] == [0] and c["integration_types"] == [0] and c["dm_permission"] is False
               for c in tree), [(c["name"], c.get("contexts")) for c in tree if c.get("contexts") != [0]]
    named = {path: node for command in tree for path, node in _leaves(command)}
    for path, option in (("generate", "maker"), ("remake", "maker"), ("maker settings", "name"),
                         ("maker revoke", "name")):
        assert next(o for o in named[path]["options"] if o["name"] == option)["autocomplete"] is True, path


def test_choices_are_localised(tree):
    maker = next(c for c in tree if c["name"] == "maker")
    settings = next(o for o in maker["options"] if o["name"] == "settings")
    usage = next(o for o in settings["options"] if o["name"] == "usage")
    assert {c["value"]: c["name_localizations"].get("ja") for c in usage["choices"]} == {
        "not_allowed": "作家のみ", "personal": "個人利用", "commercial": "商用利用"}


def _refusal_keys() -> set[str]:
    keys = set()
    for path in [*(ROOT / "bot" / "core").glob("*.py"), *(ROOT / "bot" / "discord").glob("*.py")]:
        keys |= set(re.findall(r"Refusal\(\s*\"([a-z_.]+)\"", path.read_text()))
    return keys


def test_every_refusal_key_has_english_and_japanese():
    keys = _refusal_keys()
    assert "maker.quota" in keys and "generation.locked" in keys
    missing = sorted(k for k in keys if k not in MESSAGES)
    assert missing == []
    for key, (en, ja) in MESSAGES.items():
        assert en.strip() and ja.strip(), key
        assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", ja)), f"{key}: placeholders differ"


def test_translation_by_locale_and_robust_formatting():
    assert language("ja") == "ja" and language("en-US") == "en" and language(None) == "en"
    assert t("maker.quota", "ja", limit=2) == "無料枠のメーカー2個をすでに持っています。`/maker revoke` で1つ取り消すと作成できます。"
    assert "2 makers" in t("maker.quota", "en-GB", limit=2)
    assert t("maker.quota", "en") .count("{limit}") == 1  # a missing parameter never raises
    assert "• a.png: blurry\n• b.png: not yours" in t("maker.nothing_accepted", "en", details=["a.png: blurry",
                                                                                               "b.png: not yours"])
    assert "unknown.key" in t("unknown.key", "en")
