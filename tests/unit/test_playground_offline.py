"""The playground works offline: its page loads nothing from another host (no CDN, no build step)."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "bot" / "playground" / "static"
REMOTE = re.compile(r"""(?:src|href|url|fetch|import)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_the_page_its_script_and_its_styles_load_nothing_from_another_host():
    files = sorted(STATIC.glob("*"))
    assert {f.name for f in files} >= {"index.html", "playground.js", "playground.css"}
    for file in files:
        text = file.read_text()
        assert not REMOTE.search(text), f"{file.name} loads something from another host"
        assert "cdn" not in text.lower(), file.name


def test_the_pattern_would_catch_a_cdn_script():
    assert REMOTE.search('<script src="https://cdn.example.com/lib.js"></script>')
    assert REMOTE.search("fetch('//example.com/api')")
