"""The SDK is loaded a piece at a time (bot.genesys.sdk_import), and still answers to every name."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], check=True, timeout=120, capture_output=True, text=True)
    return done.stdout.strip()


def test_building_the_client_loads_a_small_part_of_the_sdk() -> None:
    out = _run(
        "import sys\n"
        "import bot.genesys.client\n"
        "print(sum(1 for m in sys.modules if m.startswith('PureCloudPlatformClientV2')))\n"
    )
    # The package's own __init__ imports ~6,800 modules; the four APIs the client uses import
    # their own models (~500 modules in all).
    assert int(out) < 1500


def test_names_resolve_on_first_use_like_the_real_package() -> None:
    out = _run(
        "import PureCloudPlatformClientV2 as real_name_check\n"  # nothing imported yet: the real package
        "print(type(real_name_check).__name__)\n"
    )
    assert out == "module"  # without bot.genesys, the usual import runs
    out = _run(
        "import bot.genesys\n"
        "import PureCloudPlatformClientV2 as sdk\n"
        "from PureCloudPlatformClientV2 import TransferToQueueRequest, ConversationsApi\n"
        "from PureCloudPlatformClientV2.api_client import ApiClient\n"
        "assert sdk.models.TransferToQueueRequest is TransferToQueueRequest\n"
        "assert sdk.apis.ConversationsApi is ConversationsApi\n"
        "assert 'Conversation' in dir(sdk.models)\n"
        "try:\n"
        "    sdk.NoSuchThing\n"
        "except AttributeError as error:\n"
        "    print('AttributeError', error)\n"
    )
    assert out.startswith("AttributeError") and "NoSuchThing" in out


def test_the_sdk_deserializer_finds_models_through_the_lazy_package() -> None:
    out = _run(
        "import json\n"
        "import bot.genesys\n"
        "from PureCloudPlatformClientV2.api_client import ApiClient\n"
        "class Response:\n"
        "    data = json.dumps({'id': 'c1', 'participants': [{'id': 'p1', 'purpose': 'agent'}]})\n"
        "    def getheader(self, name):\n"
        "        return 'application/json'\n"
        "conversation = ApiClient().deserialize(Response(), 'Conversation')\n"
        "print(type(conversation).__name__, conversation.participants[0].purpose)\n"
    )
    assert out == "Conversation agent"
