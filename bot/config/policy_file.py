"""The approval rules file (TRANSFER_POLICY_FILE), YAML or TOML, checked all at once at start.

    rules:
      - kind: queue                 # queue | agent | number
        target: "Escalations"       # a queue name, an agent's email, or a number prefix; "*" matches any
        direct: []                  # Slack user (U…/W…) or user-group (S…) ids who may transfer without approval
        approvers: [U0ABC, S0SUP]   # who may approve; default TRANSFER_APPROVERS
        approvals_required: 2       # 1 (default) or 2
        break_glass: true           # approvers may use /transfer --now for this rule
        media: [chat]               # optional: call | chat | email | callback (default: all)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.domain.conversation import Media
from bot.domain.policy import ANYONE, PolicyRule
from bot.domain.target import TargetKind

_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
_KEYS = {"kind", "target", "direct", "approvers", "approvals_required", "break_glass", "media"}


def load_rules(path: str) -> tuple[tuple[PolicyRule, ...], list[str]]:
    """The rules and every problem found (file, rule number, key, what is expected)."""
    file = Path(path)
    if not file.is_file():
        return (), [f"TRANSFER_POLICY_FILE: {path} does not exist or is not a file."]
    try:
        data = _parse(file)
    except Exception as error:  # yaml/toml syntax errors name line and column
        return (), [f"TRANSFER_POLICY_FILE: {path} can't be read: {str(error)[:300]}"]
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return (), [f"TRANSFER_POLICY_FILE: {path} must have a top-level `rules:` list."]
    rules: list[PolicyRule] = []
    problems: list[str] = []
    for index, raw in enumerate(data["rules"], start=1):
        rule, found = _rule(raw, f"{file.name} rule {index}")
        problems += found
        if rule is not None:
            rules.append(rule)
    return tuple(rules), problems


def _parse(file: Path) -> Any:
    text = file.read_text(encoding="utf-8")
    if file.suffix.lower() == ".toml":
        return tomllib.loads(text)
    import yaml

    return yaml.safe_load(text)


def _rule(raw: Any, where: str) -> tuple[PolicyRule | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: expected a mapping with kind and target."]
    problems = [f"{where}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})." for key in raw if key not in _KEYS]
    kind = _kind(raw.get("kind"), where, problems)
    target = _target(raw.get("target"), kind, where, problems)
    direct = _ids(raw.get("direct", []), f"{where}: direct", problems, allow_anyone=True)
    approvers = None if raw.get("approvers") is None else _ids(raw["approvers"], f"{where}: approvers", problems)
    required = raw.get("approvals_required", 1)
    if required not in (1, 2) or isinstance(required, bool):
        problems.append(f"{where}: approvals_required must be 1 or 2, got {required!r}.")
        required = 1
    break_glass = raw.get("break_glass", False)
    if not isinstance(break_glass, bool):
        problems.append(f"{where}: break_glass must be true or false, got {break_glass!r}.")
        break_glass = False
    media = _media(raw.get("media"), where, problems)
    if problems or kind is None or target is None:
        return None, problems
    return PolicyRule(kind, target, direct, approvers, required, break_glass, media, where), []


def _kind(value: Any, where: str, problems: list[str]) -> TargetKind | None:
    try:
        return TargetKind(str(value).lower())
    except ValueError:
        problems.append(f"{where}: kind must be queue, agent or number, got {value!r}.")
        return None


def _target(value: Any, kind: TargetKind | None, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: target must be a queue name, an agent's email, a number prefix or \"*\".")
        return None
    value = value.strip()
    if value == ANYONE or kind is None:
        return value
    if kind is TargetKind.NUMBER:
        digits = "+" + re.sub(r"\D", "", value)
        if not value.startswith("+") or len(digits) < 2:
            problems.append(f"{where}: a number target is a prefix such as +44 or +1415, got {value!r}.")
            return None
        return digits
    if kind is TargetKind.AGENT and "@" not in value:
        problems.append(f"{where}: an agent target is an email address, got {value!r}.")
        return None
    return value


def _ids(value: Any, where: str, problems: list[str], *, allow_anyone: bool = False) -> frozenset[str]:
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of Slack ids, got {value!r}.")
        return frozenset()
    good = set()
    for item in value:
        if allow_anyone and item == ANYONE:
            good.add(ANYONE)
        elif isinstance(item, str) and _ID.match(item):
            good.add(item)
        else:
            problems.append(f"{where}: {item!r} is not a Slack user (U…/W…) or user-group (S…) id.")
    return frozenset(good)


def _media(value: Any, where: str, problems: list[str]) -> frozenset[Media] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    found = set()
    for item in items:
        try:
            found.add(Media(str(item).lower()))
        except ValueError:
            problems.append(f"{where}: media {item!r} is not one of call, chat, email, callback.")
    return frozenset(found)
