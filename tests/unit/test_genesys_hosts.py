"""Host resolution: SDK region names, domains, explicit hosts — without importing the SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.genesys.hosts import login_base_for, resolve_hosts, valid_region_names


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us_east_1", ("https://api.mypurecloud.com", "https://login.mypurecloud.com")),
        ("eu_west_1", ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")),
        ("eu_west_2", ("https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud")),
        ("EU-WEST-2", ("https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud")),
        ("mypurecloud.ie", ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")),
        ("api.mypurecloud.ie", ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")),
        (
            "use2.us-gov-pure.cloud",
            ("https://api.use2.us-gov-pure.cloud", "https://login.use2.us-gov-pure.cloud"),
        ),
        # What people copy from the browser or the login page.
        ("apps.mypurecloud.com", ("https://api.mypurecloud.com", "https://login.mypurecloud.com")),
        ("apps.usw2.pure.cloud", ("https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud")),
        ("login.mypurecloud.ie", ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")),
        (
            "https://apps.mypurecloud.com/directory/#/engage",
            ("https://api.mypurecloud.com", "https://login.mypurecloud.com"),
        ),
        ("https://login.euw2.pure.cloud/", ("https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud")),
    ],
)
def test_region_names_and_domains(region: str, expected: tuple[str, str]) -> None:
    assert resolve_hosts(region, None) == expected


def test_api_host_overrides_region_and_serves_login_too() -> None:
    assert resolve_hosts("eu_west_2", "http://127.0.0.1:9000/") == (
        "http://127.0.0.1:9000",
        "http://127.0.0.1:9000",
    )
    assert resolve_hosts(None, "https://api.mypurecloud.de") == (
        "https://api.mypurecloud.de",
        "https://login.mypurecloud.de",
    )


@pytest.mark.parametrize(
    "api_host",
    [
        "https://apps.mypurecloud.com",
        "https://apps.mypurecloud.com/directory/#/person/123",
        "https://login.mypurecloud.com/",
        "https://api.mypurecloud.com/api/v2",
        "https://mypurecloud.com",
    ],
)
def test_browser_and_login_urls_map_to_api_and_login_hosts(api_host: str) -> None:
    assert resolve_hosts(None, api_host) == ("https://api.mypurecloud.com", "https://login.mypurecloud.com")


@pytest.mark.parametrize(
    ("api_host", "words"),
    [
        ("http://api.mypurecloud.com", "https"),
        ("https://api.mypurecloud.com:8443", "port"),
        ("https://user:pw@api.example.com", "credentials"),
        ("ftp://api.mypurecloud.com", "full base URL"),
        ("https://gateway.example.com/genesys?x=1", "without"),
        ("https://", "full base URL"),
    ],
)
def test_unusable_hosts_are_rejected_clearly(api_host: str, words: str) -> None:
    with pytest.raises(ValueError) as err:
        resolve_hosts(None, api_host)
    assert words in str(err.value)
    assert "pw" not in str(err.value)


def test_gateways_and_simulators_keep_their_url() -> None:
    assert resolve_hosts(None, "https://gateway.example.com/genesys/") == (
        "https://gateway.example.com/genesys",
        "https://gateway.example.com/genesys",
    )
    assert resolve_hosts(None, "http://localhost:8080") == ("http://localhost:8080", "http://localhost:8080")


def test_login_derivation_matches_sdk_rule() -> None:
    assert login_base_for("https://api.apne2.pure.cloud") == "https://login.apne2.pure.cloud"
    assert login_base_for("http://localhost:8080") == "http://localhost:8080"


def test_unknown_region_lists_valid_names() -> None:
    with pytest.raises(ValueError) as err:
        resolve_hosts("narnia_1", None)
    assert "us_east_1" in str(err.value) and "eu_west_2" in str(err.value)


def test_missing_configuration_is_an_error() -> None:
    with pytest.raises(ValueError):
        resolve_hosts(None, None)
    with pytest.raises(ValueError):
        resolve_hosts(None, "not a url")


def test_valid_region_names_come_from_sdk_table() -> None:
    names = valid_region_names()
    assert len(names) >= 18
    assert {"us_east_1", "eu_west_2", "ap_southeast_2"} <= set(names)


def test_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "from bot.genesys.hosts import resolve_hosts, valid_region_names\n"
        "resolve_hosts('eu_west_2', None); valid_region_names()\n"
        "loaded = [m for m in sys.modules if m.startswith('PureCloudPlatformClientV2.')"
        " and m not in ('PureCloudPlatformClientV2.models', 'PureCloudPlatformClientV2.apis')]\n"
        "assert not loaded, f'SDK modules were imported: {loaded[:5]}'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
