"""Checks every Slack body we build: slack_sdk's own validators, plus the limits they don't enforce."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

LIMITS = {"section": 3000, "plain_text_button": 75, "option": 75, "header": 150, "value": 2000, "action_id": 255,
          "block_id": 255}


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _check_texts(body: Any) -> None:
    for path, node in _walk(body):
        if not isinstance(node, dict):
            continue
        if node.get("type") in ("mrkdwn", "plain_text"):
            text = node.get("text")
            assert isinstance(text, str) and text.strip(), f"empty text at {path}"
            assert len(text) <= 3000, f"text over 3000 at {path}"
            assert "<!" not in text, f"special mention at {path}: {text!r}"
            assert "<#>" not in text and "<@>" not in text, f"empty link at {path}"
            if node["type"] == "mrkdwn":
                assert node.get("verbatim") is True, f"mrkdwn without verbatim at {path}"
        if node.get("type") == "button":
            assert len(node["text"]["text"]) <= LIMITS["plain_text_button"], path
            assert len(node.get("value", "")) <= LIMITS["value"], path
            assert len(node["action_id"]) <= LIMITS["action_id"], path
        if node.get("type") == "header":
            assert len(node["text"]["text"]) <= LIMITS["header"], path
        if "block_id" in node:
            assert len(node["block_id"]) <= LIMITS["block_id"], path
        if node.get("type") == "context":
            assert node.get("elements"), f"empty context at {path}"
    block_ids = [b["block_id"] for b in body.get("blocks", []) if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block ids {block_ids}"


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()  # runs slack_sdk's validators


def check_message(body: dict[str, Any]) -> dict[str, Any]:
    """A chat.postMessage / response_url body: valid blocks, ≤50 of them, non-empty fallback text."""
    assert isinstance(body.get("text"), str) and body["text"].strip()
    assert "<!" not in body["text"]
    assert 0 < len(body["blocks"]) <= 50
    check_blocks(body["blocks"])
    _check_texts(body)
    return body


def check_view(view: dict[str, Any]) -> dict[str, Any]:
    assert 0 < len(view["blocks"]) <= 100
    View(**view).to_dict()
    check_blocks(view["blocks"])
    _check_texts(view)
    return view


def all_text(body: Any) -> str:
    """Every text in a body, for "does it say X" assertions."""
    texts = [n["text"] for _, n in _walk(body) if isinstance(n, dict) and isinstance(n.get("text"), str)]
    return "\n".join(texts)
