"""Imported at start-up by a bot process whose PYTHONPATH starts with this folder (tests only).

When the file named by TRANSFERBOT_PROBE appears, a plain thread (not the bot's code) emits a
third-party-style warning and then dies with an uncaught exception whose text carries every
secret of the environment: the process must still write only JSON lines, with no secret in them.
"""

import os
import threading
import time
import warnings

_TRIGGER = os.environ.get("TRANSFERBOT_PROBE")
_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "GENESYS_CLOUD_CLIENT_SECRET")


def _wait_then_misbehave() -> None:
    while not os.path.exists(_TRIGGER):
        time.sleep(0.05)
    warnings.warn("probe warning from a library", UserWarning, stacklevel=1)
    carried = " ".join(os.environ.get(name, "") for name in _SECRETS)
    raise RuntimeError(f"probe crash carrying {carried}")


def _crash_in_a_thread() -> None:
    threading.Thread(target=_wait_then_misbehave, name="probe", daemon=True).start()


if _TRIGGER:
    _crash_in_a_thread()
