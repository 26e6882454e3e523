"""The playground's Block Kit renderer: Slack's formatting, safe HTML, and raw JSON for the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.conversation import Media
from bot.domain.problems import Code, Problem
from bot.domain.request import Ask, RequestState, Snapshot, TransferRequest
from bot.domain.target import Target, TargetKind
from bot.playground.render import Names, Surface, blocks, message_body, mrkdwn, text_object
from bot.slack.origin import encode_origin
from bot.slack.render import approval_message, requester_notice, result_message, thread_reply, transfer_modal
from bot.slack.wording import usage

ALLOWED_TAGS = {"b", "i", "s", "code", "pre", "br", "span", "a", "blockquote", "div", "details", "summary", "button",
                "input", "select", "option", "textarea", "label", "ul", "li", "hr"}
NAMES = Names(users={"U0SAM": "Sam Supervisor"}, channels={"C0FLOOR": "support-floor"})
EVIL = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='x", "</div><b>",
        "javascript:alert(1)", "&lt;script&gt;", "<https://ok.example|x\" onclick=\"y>"]


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe(html: str) -> None:
    found = markup(html)
    assert set(found.tags) <= ALLOWED_TAGS, found.tags
    for name, value in found.attrs:
        assert not name.startswith("on"), (name, html)
        if name == "href":
            assert value.startswith(("http://", "https://", "mailto:")), value


# ---- mrkdwn ----

def test_bold_italics_strike_code_and_code_blocks():
    assert mrkdwn("*bold* _it_ ~gone~ `x = 1`") == "<b>bold</b> <i>it</i> <s>gone</s> <code>x = 1</code>"
    assert mrkdwn("```a *not bold*\nb```") == "<pre>a *not bold*\nb</pre>"
    assert mrkdwn("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"


def test_links_mentions_channels_and_special_mentions():
    html = mrkdwn("<https://example.com/a?b=1&amp;c=2|the docs> <@U0SAM> <@U0NOBODY> <#C0FLOOR> "
                  "<#C0OTHER|other> <!here> <mailto:a@b.c|mail>", NAMES)
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the docs</a>' in html
    assert '@Sam Supervisor</span>' in html and "@U0NOBODY</span>" in html
    assert "#support-floor</span>" in html and "#other</span>" in html
    assert '<span class="mention special">@here</span>' in html
    assert 'href="mailto:a@b.c"' in html


def test_slack_entities_are_shown_as_the_characters_they_stand_for():
    assert mrkdwn("a &amp; b &lt;tag&gt;") == "a &amp; b &lt;tag&gt;"  # HTML-escaped once: shows "a & b <tag>"
    assert mrkdwn("&amp;lt;") == "&amp;lt;"  # Slack's "&lt;" typed literally stays as typed


def test_emoji_quotes_and_line_breaks():
    assert mrkdwn(":white_check_mark: done\n:no_such_emoji:") == "✅ done<br>:no_such_emoji:"
    assert mrkdwn("&gt; quoted\nafter") == "<blockquote>quoted</blockquote>after"


def test_unsafe_link_targets_are_shown_as_text_not_links():
    html = mrkdwn("<javascript:alert(1)|click me> <data:text/html,x|y>")
    assert "<a" not in html and "&lt;javascript:alert(1)|click me&gt;" in html


def test_user_text_never_becomes_markup_anywhere():
    for evil in EVIL:
        assert_safe(mrkdwn(evil, NAMES))
        assert_safe(mrkdwn(f"*{evil}* <https://x.example|{evil}> <@U0SAM|{evil}>", NAMES))
        assert_safe(text_object({"type": "plain_text", "text": evil}))
        assert_safe(blocks([
            {"type": "section", "text": {"type": "mrkdwn", "text": evil},
             "fields": [{"type": "plain_text", "text": evil}]},
            {"type": "actions", "block_id": evil, "elements": [
                {"type": "button", "action_id": evil, "value": evil, "text": {"type": "plain_text", "text": evil},
                 "url": evil},
                {"type": "static_select", "action_id": "s", "placeholder": {"type": "plain_text", "text": evil},
                 "options": [{"text": {"type": "plain_text", "text": evil}, "value": evil}]}]},
            {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": evil},
             "element": {"type": "plain_text_input", "action_id": "a", "initial_value": evil,
                         "placeholder": {"type": "plain_text", "text": evil}}},
            {"type": evil, "text": evil},
        ], Surface(names=NAMES, users=[("U1", evil)], errors={"b": evil})))


@given(st.text(alphabet=st.sampled_from(list("<>&\"'*_~`|@#!:/ \nabcUC0=x")) | st.characters(), max_size=80))
def test_any_text_renders_to_safe_markup(text):
    assert_safe(mrkdwn(text, NAMES))
    assert_safe(mrkdwn(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), NAMES))


# ---- blocks ----

def test_unknown_blocks_and_elements_are_shown_as_raw_json_never_dropped():
    unknown = {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"text": "hi <b>"}]}]}
    html = blocks([unknown, {"type": "actions", "elements": [{"type": "datepicker", "action_id": "d"}]}])
    assert "block not rendered: rich_text" in html and "element not rendered: datepicker" in html
    assert "hi &lt;b&gt;" in html and "rich_text_section" in html
    assert_safe(html)


def test_malformed_known_blocks_are_shown_as_raw_json():
    html = blocks([{"type": "section"}, {"type": "header"}, "not a block"])
    assert html.count('class="raw"') == 3
    assert "malformed section block" in html and "malformed header block" in html


def test_message_without_blocks_shows_its_text_and_attachments_as_json():
    html = message_body("*hi*", None, [{"color": "#f00", "text": "legacy"}], Surface())
    assert "<b>hi</b>" in html and "attachments (legacy) not rendered" in html and "legacy" in html


def test_buttons_carry_what_a_block_actions_payload_needs():
    html = blocks([{"type": "actions", "block_id": "approval:1", "elements": [
        {"type": "button", "action_id": "transfer_approve", "value": "r1", "style": "primary",
         "text": {"type": "plain_text", "text": "Approve"}},
        {"type": "button", "action_id": "transfer_deny", "value": "r1", "style": "danger",
         "text": {"type": "plain_text", "text": "Deny"}}]}])
    assert 'class="btn btn-primary" data-kind="button" data-action-id="transfer_approve"' in html
    assert 'data-block-id="approval:1" data-value="r1">Approve</button>' in html
    assert 'class="btn btn-danger"' in html


def test_modal_inputs_keep_values_and_show_errors():
    modal_blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Transfer a call"}},
        {"type": "divider"},
        {"type": "input", "block_id": "call", "label": {"type": "plain_text", "text": "Call"},
         "element": {"type": "plain_text_input", "action_id": "call"}},
        {"type": "input", "block_id": "agent", "optional": True, "label": {"type": "plain_text", "text": "Agent"},
         "element": {"type": "users_select", "action_id": "agent"}},
        {"type": "input", "block_id": "queue", "label": {"type": "plain_text", "text": "Queue"},
         "element": {"type": "external_select", "action_id": "queue", "min_query_length": 1}},
        {"type": "input", "block_id": "channel", "label": {"type": "plain_text", "text": "Channel"},
         "element": {"type": "conversations_select", "action_id": "channel"}},
    ]
    values = {"call": {"call": {"type": "plain_text_input", "value": "not-an-id"}},
              "agent": {"agent": {"type": "users_select", "selected_user": "U0SAM"}},
              "queue": {"queue": {"type": "external_select", "selected_option": {
                  "text": {"type": "plain_text", "text": "Support Tier 2"}, "value": "q2"}}}}
    surface = Surface(names=NAMES, users=[("U0SAM", "Sam Supervisor"), ("U0RILEY", "Riley")],
                      channels=[("C0FLOOR", "support-floor")], values=values, errors={"call": "Not a conversation id"})
    html = blocks(modal_blocks, surface)
    assert '<div class="block header">Transfer a call</div>' in html and '<hr class="block divider">' in html
    assert 'value="not-an-id"' in html and '<div class="field-error">Not a conversation id</div>' in html
    assert '<option value="U0SAM" selected>Sam Supervisor</option>' in html
    assert 'data-kind="external_select"' in html and 'data-min-query-length="1"' in html
    assert 'value="Support Tier 2"' in html
    assert '<option value="C0FLOOR">support-floor</option>' in html
    assert "(optional)" in html and "raw" not in html


def _request(state: RequestState, **changes) -> TransferRequest:
    now = datetime.now(UTC)
    snapshot = Snapshot("55576b8d-bcb3-5e8b-a6f9-af2a12ce13d7", Media.CALL, "p1", "Alice <Agent>", "u1", "q1",
                        "Support_Tier1", now - timedelta(minutes=3))
    return TransferRequest(
        "a" * 32, "U0RILEY", state, now, Ask(snapshot.conversation_id, "Support & <Tier> 2"),
        conversation_id=snapshot.conversation_id, target=Target(TargetKind.QUEUE, "q2", "Support & <Tier> 2"),
        snapshot=snapshot, origin=encode_origin("C0FLOOR", "U0RILEY"), message_ref="C0FLOOR:1.000001",
        needs_approval=True, approvers=("U0SAM",), expires_at=now + timedelta(minutes=15), acted_by="U0SAM",
        acted_at=now, correlation_id="corr-1", **changes,
    )


def test_everything_the_bot_sends_renders_without_raw_json():
    now = datetime.now(UTC)
    pending = _request(RequestState.PENDING)
    done = _request(RequestState.SUCCEEDED)
    failed = _request(RequestState.FAILED, problem=Problem(Code.REJECTED, {"message": "Genesys said <no>."}))
    messages = [
        usage(Problem(Code.BAD_CALL_REF, {"token": "Bad <id>"})), approval_message(pending, now, show_number=False),
        requester_notice(pending), result_message(done, now), approval_message(done, now, show_number=False),
        approval_message(failed, now, show_number=False), requester_notice(failed),
        {"text": "view", "blocks": transfer_modal(call=pending.conversation_id)["blocks"]},
    ]
    for message in messages:
        html = message_body(message["text"], message.get("blocks"), None, Surface(names=NAMES))
        assert 'class="raw"' not in html, json.dumps(message)
        assert_safe(html)
    html = message_body(thread_reply(failed), None, None, Surface(names=NAMES))
    assert "&lt;no&gt;" in html and "<no>" not in html
    approval = message_body("", approval_message(pending, now, show_number=False)["blocks"], None,
                            Surface(names=NAMES))
    assert "Alice &lt;Agent&gt;" in approval and "Support &amp; &lt;Tier&gt; 2" in approval
