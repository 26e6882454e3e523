"""The guard reads a slash command's team and app ids from the raw form; odd forms get the full parse."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.slack.http_guard import _form, _team_and_app


def _full_parse(body: bytes) -> tuple[str | None, str | None]:
    data = _form(body)
    return data.get("team_id") or None, data.get("api_app_id") or None


@pytest.mark.parametrize("body", [
    urlencode({"team_id": "T0TEST", "api_app_id": "A0TEST", "text": "abc team_id=T9 &api_app_id=A9"}).encode(),
    b"command=%2Ftransfer&team_id=T0TEST&api_app_id=A0TEST",
    b"api_app_id=A0TEST&team_id=T0TEST",
    b"team_id=T0TEST",  # no app id
    b"team_id=&api_app_id=A0TEST",  # empty team
    b"team_id=T%30TEST&api_app_id=A0TEST",  # encoded: the full parse decodes it
    b"team_id=T1&team_id=T2&api_app_id=A0TEST",  # given twice: the full parse's first value
    b"team_id=T0+TEST&api_app_id=A0TEST",
])
def test_the_fast_read_agrees_with_the_full_parse(body: bytes) -> None:
    assert _team_and_app(body) == _full_parse(body)


def test_a_user_typing_ids_in_the_text_cannot_change_them() -> None:
    body = urlencode({"team_id": "T0TEST", "api_app_id": "A0TEST", "text": "x&team_id=TEVIL"}).encode()
    assert _team_and_app(body) == ("T0TEST", "A0TEST")
