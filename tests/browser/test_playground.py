"""The playground in a real browser: a requester asks, an approver approves, the call moves queue.

Everything below goes through the bot's real HTTP path: the page posts to the playground, which
sends signed Slack requests to `python app.py --http` and renders what the bot sends back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.playground.runner import PlaygroundRun
from bot.playground.server import Playground
from tests.browser.conftest import js_errors

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CALL = "55576b8d-bcb3-5e8b-a6f9-af2a12ce13d7"  # Alice Agent's live call in the demo org (ids are deterministic)
WAIT = 20.0


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[PlaygroundRun]:
    run = PlaygroundRun(port=0, data_dir=tmp_path / "playground").start()
    try:
        yield run
    finally:
        run.stop()


def _wait(driver, condition, what: str, timeout: float = WAIT):
    """Poll until condition(driver) is truthy; the page re-renders regions, so stale elements are retried."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}") from None


def _click(driver, css: str, what: str) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def attempt(d) -> bool:
        found = d.find_elements(By.CSS_SELECTOR, css)
        if not found:
            return False
        try:
            found[0].click()
        except StaleElementReferenceException:
            return False
        return True

    _wait(driver, attempt, what)


def _message_texts(driver, css: str = "#timeline .message") -> list[tuple[str, str, str]]:
    """(data-ts, data-ephemeral, text) of every message on screen, read in one go."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(m => [m.dataset.ts, m.dataset.ephemeral, m.innerText]);", css)


def _messages(driver, text: str) -> list[tuple[str, str, str]]:
    return [m for m in _message_texts(driver) if text in m[2]]


def _act_as(driver, user_id: str) -> None:
    from selenium.webdriver.common.by import By

    _click(driver, f'.person[data-user="{user_id}"]', f"the {user_id} button")
    _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, f'.person[data-user="{user_id}"]')
          .get_attribute("aria-checked") == "true", f"acting as {user_id}")


def test_request_approve_and_see_the_call_move(browser, playground: PlaygroundRun, artifacts_dir: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    assert playground.demo.calls["connected"].id == CALL
    driver.get(playground.url + "?user=U0RILEY")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".call[data-call-id]"), "the Genesys panel")
    call_panel = f'.call[data-call-id="{CALL}"]'
    assert driver.find_element(By.CSS_SELECTOR, call_panel).get_attribute("data-queue") == "Support_Tier1"

    # 1. The requester (not an approver) types the command and sees the private pending notice.
    box = driver.find_element(By.ID, "message-input")
    box.send_keys(f"/transfer {CALL} Support Tier 2", Keys.ENTER)
    _, private, text = _wait(driver, lambda d: _messages(d, "waiting for a supervisor"), "the pending notice")[0]
    assert private == "true" and "Only visible to you" in text
    approval_ts, private, _ = _wait(driver, lambda d: _messages(d, "asks to transfer"), "the approval message")[0]
    assert private == "false"
    driver.save_screenshot(str(artifacts_dir / "01-requester-pending.png"))

    # 2. An approver sees the request (not the requester's private notice) and approves it.
    _act_as(driver, "U0SAM")
    _wait(driver, lambda d: not _messages(d, "waiting for a supervisor"), "the requester's notice to be hidden")
    approve = f'.message[data-ts="{approval_ts}"] button[data-action-id="transfer_approve"]'
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, approve), "the Approve button")
    driver.save_screenshot(str(artifacts_dir / "02-approver-sees-request.png"))
    _click(driver, approve, "Approve")

    # 3. The approval message is edited in place: same ts, buttons gone, "Transferred".
    in_place = f'#timeline .message[data-ts="{approval_ts}"]'
    _, _, text = _wait(driver, lambda d: [m for m in _message_texts(d, in_place) if "Transferred" in m[2]],
                       "the approval message to say Transferred")[0]
    assert "Support Tier 2" in text
    assert "Approved by" in text and "Sam Supervisor" in text
    assert not driver.find_elements(By.CSS_SELECTOR, f"{in_place} button[data-action-id]")
    assert len(_message_texts(driver, in_place)) == 1

    # 4. The Genesys panel shows the call waiting in its new queue.
    _wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, call_panel).get_attribute("data-queue") == "Support Tier 2",
          "the call to move to Support Tier 2")
    status, text = driver.execute_script(
        "const c = document.querySelector(arguments[0]); return [c.dataset.status, c.innerText];", call_panel)
    assert status == "waiting in queue"
    assert "moved from Support_Tier1" in text
    shot = artifacts_dir / "03-approved-call-moved.png"
    driver.save_screenshot(str(shot))
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "playground.png")

    # The traffic log shows what went to the bot and what the bot sent to Slack.
    _click(driver, "#traffic-box summary", "Slack traffic")
    _wait(driver, lambda d: "slash command /transfer" in d.find_element(By.ID, "traffic").text
          and "API chat.update" in d.find_element(By.ID, "traffic").text, "the traffic log")
    assert js_errors(driver) == []

    # What the bot really did: one transfer to the queue literally named "Support Tier 2".
    transfers = playground.simulator.transfers
    assert [t.conversation_id for t in transfers] == [CALL]
    assert playground.org.queue_named("Support Tier 2").id == transfers[0].queue_id


@pytest.fixture
def modal_playground() -> Iterator[Playground]:
    """The playground in front of a small Bolt app that has the modal, shortcuts and Home the bot is growing."""
    from bot.playground.genesys import SimulatedOrg
    from bot.playground.payloads import BotEndpoint
    from bot.playground.slack_api import FakeSlack
    from bot.simulator import GenesysSimulator, seed_demo
    from tests.fakes.modal_bot import SECRET, serve_modal_bot

    sim = GenesysSimulator().start()
    seed_demo(sim)
    slack = FakeSlack()
    with serve_modal_bot(slack, []) as url:
        playground = Playground(slack=slack, org=SimulatedOrg(sim), bot=BotEndpoint(url, SECRET))
        slack.start()
        yield playground
        slack.stop()
    sim.stop()


def test_modal_inputs_typeahead_errors_message_shortcut_and_home(browser, modal_playground, artifacts_dir: Path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(f"{modal_playground.slack.url}/playground?user=U0RILEY")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".call[data-call-id]"), "the page")

    # Global shortcut (⚡) opens the bot's modal; fill it in, with a bad call id first.
    _click(driver, "#shortcuts-button", "the shortcuts button")
    _click(driver, '#menu .menu-item[data-callback-id="transfer_call"]', "Transfer call in the ⚡ menu")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".modal"), "the modal")
    driver.find_element(By.CSS_SELECTOR, '.modal input[data-action-id="call"]').send_keys("short")
    Select(driver.find_element(By.CSS_SELECTOR, '.modal select[data-action-id="agent"]')).select_by_value("U0ALICE")
    Select(driver.find_element(By.CSS_SELECTOR, '.modal select[data-action-id="channel"]')).select_by_visible_text(
        "support-floor")
    driver.find_element(By.CSS_SELECTOR, '.modal .typeahead-input').send_keys("tier")
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".typeahead-options li[data-option]")) == 2,
          "two options from the bot's options endpoint")
    _click(driver, '.typeahead-options li[data-label="Support Tier 2"]', "Support Tier 2")
    _click(driver, '.modal [data-kind="submit-view"]', "Submit")
    _wait(driver, lambda d: "That is not a conversation id." in d.find_element(By.CSS_SELECTOR, ".modal").text,
          "the bot's field error in the modal")
    assert driver.find_element(By.CSS_SELECTOR, ".modal .typeahead-input").get_attribute("value") == "Support Tier 2"
    driver.save_screenshot(str(artifacts_dir / "10-modal-field-error.png"))

    field = driver.find_element(By.CSS_SELECTOR, '.modal input[data-action-id="call"]')
    field.clear()
    field.send_keys(CALL)
    _click(driver, '.modal [data-kind="submit-view"]', "Submit")
    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal"), "the modal to close")
    _wait(driver, lambda d: _messages(d, f"moves {CALL} to Support Tier 2"), "the bot's message in the channel")

    # A message's ⋯ menu sends the message shortcut with that message; the modal opens pre-filled.
    ts = _messages(driver, f"moves {CALL}")[0][0]
    message = driver.find_element(By.CSS_SELECTOR, f'#timeline .message[data-ts="{ts}"]')
    ActionChains(driver).move_to_element(message).perform()
    message.find_element(By.CSS_SELECTOR, ".more").click()
    _click(driver, '#menu .menu-item[data-callback-id="transfer_call_from_message"]', "Transfer call in the ⋯ menu")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '.modal input[data-action-id="call"]'), "the modal")
    assert f"moves {CALL}" in driver.find_element(By.CSS_SELECTOR, '.modal input[data-action-id="call"]') \
        .get_attribute("value")
    _click(driver, '.modal .x[data-kind="close-view"]', "×")
    _wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".modal"), "the modal to close")

    # The App Home is published on app_home_opened; its button is a block_actions from the Home view.
    _click(driver, '.place[data-place="home"]', "the Home tab")
    _wait(driver, lambda d: "Your transfers" in d.find_element(By.ID, "timeline").text, "the published Home")
    _click(driver, '.home button[data-action-id="home_refresh"]', "Refresh")
    _wait(driver, lambda d: "Refreshed" in d.find_element(By.ID, "timeline").text, "the republished Home")
    driver.save_screenshot(str(artifacts_dir / "11-app-home.png"))
    assert js_errors(driver) == []
