"""Resolve the Genesys Cloud API and login base URLs from configuration.

This module must stay cheap to import: it is used by Slack-facing start-up code to validate the
configuration before the (slow) SDK is loaded in a background thread. It therefore never imports
the `PureCloudPlatformClientV2` package.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

_SDK_PACKAGE = "PureCloudPlatformClientV2"
_REGION_FILE = "purecloud_region_hosts.py"

# A bare domain ("mypurecloud.ie", "api.euw2.pure.cloud"): labels of letters, digits and dashes.
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


@functools.cache
def _region_table() -> dict[str, str]:
    """Region name -> API base URL, read from the SDK's own `PureCloudRegionHosts` enum.

    Importing `PureCloudPlatformClientV2` executes its `__init__`, which imports every API and
    model module: measured at ~1.5-3 s and ~215 MB RSS on this machine. The region table is one
    tiny standalone file (it only imports `enum`), so we locate the package directory with
    `find_spec` (which does not execute the package) and load that single file by path. This keeps
    the SDK as the single source of truth for region hosts without paying for the whole SDK.
    """
    spec = importlib.util.find_spec(_SDK_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{_SDK_PACKAGE} is not installed; cannot resolve Genesys regions")
    path = Path(next(iter(spec.submodule_search_locations))) / _REGION_FILE
    file_spec = importlib.util.spec_from_file_location("_genesys_sdk_region_hosts", path)
    if file_spec is None or file_spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(file_spec)
    file_spec.loader.exec_module(module)
    return {member.name: member.value for member in module.PureCloudRegionHosts}


def valid_region_names() -> list[str]:
    """SDK region names accepted by `resolve_hosts` (e.g. `us_east_1`, `eu_west_2`)."""
    return sorted(_region_table())


def login_base_for(api_base: str) -> str:
    """Derive the login base URL the way the SDK's `ApiClient.get_conf_url("login", ...)` does.

    `https://api.X` becomes `https://login.X`; a host without the `api.` prefix (a simulator, a
    gateway) is assumed to serve both the API and `/oauth/token`.
    """
    return re.sub(r"//api\.", "//login.", api_base, count=1)


def _normalise_base(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url, re.I):
        raise ValueError(
            f"Genesys API host {url!r} must be a full base URL such as "
            "'https://api.mypurecloud.ie' or 'http://127.0.0.1:9000'"
        )
    return url


def resolve_hosts(region: str | None, api_host: str | None) -> tuple[str, str]:
    """Return `(api_base_url, login_base_url)`.

    `api_host` (a full base URL) wins over `region`. `region` is either an SDK region name
    (`eu_west_1`) or a domain (`mypurecloud.ie` or `api.mypurecloud.ie`). Neither given means the
    SDK's default region, `us_east_1`, is NOT assumed: the operator must choose explicitly, because
    a token for one region is useless in another and the resulting 401s are confusing.
    """
    if api_host and api_host.strip():
        api_base = _normalise_base(api_host)
        return api_base, login_base_for(api_base)
    if not region or not region.strip():
        raise ValueError(
            "No Genesys region configured: set a region name ("
            + ", ".join(valid_region_names())
            + "), a domain such as 'mypurecloud.ie', or a full API host URL"
        )
    value = region.strip()
    table = _region_table()
    key = value.lower().replace("-", "_")
    if key in table:
        api_base = table[key]
    elif re.match(r"^https?://", value, re.I):
        api_base = _normalise_base(value)
    elif _DOMAIN_RE.match(value.rstrip(".")):
        domain = value.rstrip(".").lower()
        if domain.startswith("login."):
            domain = domain[len("login.") :]
        if not domain.startswith("api."):
            domain = "api." + domain
        api_base = "https://" + domain
    else:
        raise ValueError(
            f"Unknown Genesys region {value!r}. Use one of: "
            + ", ".join(valid_region_names())
            + "; or a domain such as 'mypurecloud.ie'"
        )
    return api_base, login_base_for(api_base)
