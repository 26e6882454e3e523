"""Resolve the Genesys Cloud API and login base URLs from configuration.

People paste what they see: a region name (`eu_west_1`), their org's domain (`mypurecloud.ie`),
the browser address (`https://apps.mypurecloud.com/directory/#/…`) or a login host. All of
those map to `https://api.<domain>` and `https://login.<domain>`; anything unusable is a clear
ValueError. A base URL that is not a Genesys domain (the simulator, a gateway) is used as given
and serves `/oauth/token` too.

Cheap to import on purpose: configuration is validated at start-up, before the (slow) SDK is
loaded in the background, so this module never imports `PureCloudPlatformClientV2`.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

_SDK_PACKAGE = "PureCloudPlatformClientV2"
_REGION_FILE = "purecloud_region_hosts.py"
# Host prefixes of one Genesys region: the web app, the login service and the API.
_HOST_PREFIXES = ("apps.", "login.", "api.")

# A bare domain ("mypurecloud.ie", "api.euw2.pure.cloud"): labels of letters, digits and dashes.
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


@functools.cache
def _region_table() -> dict[str, str]:
    """Region name -> API base URL, read from the SDK's own `PureCloudRegionHosts` enum.

    Importing `PureCloudPlatformClientV2` executes its `__init__`, which imports every API and
    model module (~2 s, ~220 MB). The region table is one tiny standalone file (it only imports
    `enum`), so we locate the package with `find_spec` (which does not execute it) and load that
    single file by path: the SDK stays the source of truth without paying for the whole SDK.
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


@functools.cache
def _genesys_domains() -> frozenset[str]:
    """`mypurecloud.com`, `usw2.pure.cloud`, …: the part after `api.` of every region's host."""
    return frozenset((urlsplit(url).hostname or "").removeprefix("api.") for url in _region_table().values())


def valid_region_names() -> list[str]:
    """SDK region names accepted by `resolve_hosts` (e.g. `us_east_1`, `eu_west_2`)."""
    return sorted(_region_table())


def login_base_for(api_base: str) -> str:
    """Derive the login base URL the way the SDK's `ApiClient.get_conf_url("login", ...)` does.

    `https://api.X` becomes `https://login.X`; a host without the `api.` prefix (a simulator, a
    gateway) is assumed to serve both the API and `/oauth/token`.
    """
    return re.sub(r"//api\.", "//login.", api_base, count=1)


def _domain_of(host: str) -> str:
    """`apps.mypurecloud.com`, `login.mypurecloud.com`, `api.mypurecloud.com` → `mypurecloud.com`."""
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            return host[len(prefix) :]
    return host


def _from_url(url: str) -> str:
    """An API base URL from a URL someone pasted."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError(
            f"Genesys API host {text!r} must be a full base URL such as "
            "'https://api.mypurecloud.ie' or 'http://127.0.0.1:9000'"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("Genesys API host must not contain credentials")
    host = parts.hostname
    domain = _domain_of(host)
    if domain in _genesys_domains():
        # A Genesys address, perhaps copied from the browser (apps.…/directory/#/…): the API
        # lives at the root of api.<domain>, over https only.
        if parts.scheme.lower() != "https":
            raise ValueError(f"Genesys Cloud is served over https only: use 'https://api.{domain}'")
        if parts.port is not None:
            raise ValueError(f"Genesys Cloud uses the default https port: use 'https://api.{domain}'")
        return "https://api." + domain
    if host.startswith(("apps.", "login.")) and domain != host:
        return f"{parts.scheme.lower()}://api.{domain}" + (f":{parts.port}" if parts.port else "")
    if parts.query or parts.fragment:
        raise ValueError(f"Genesys API host {text!r} must be a base URL, without '?' or '#'")
    return text.rstrip("/")


def _from_domain(value: str) -> str:
    domain = _domain_of(value)
    if not _DOMAIN_RE.match(domain):
        raise ValueError(f"{value!r} is not a domain")
    return "https://api." + domain


def resolve_hosts(region: str | None, api_host: str | None) -> tuple[str, str]:
    """Return `(api_base_url, login_base_url)`.

    `api_host` (a URL) wins over `region`. `region` is an SDK region name (`eu_west_1`), a
    domain (`mypurecloud.ie`, `apps.mypurecloud.ie`, `login.…`, `api.…`) or a URL. Nothing
    given is an error: the SDK's default region is NOT assumed, because a token for one region
    is useless in another and the resulting 401s are confusing.
    """
    if api_host and api_host.strip():
        api_base = _from_url(api_host)
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
    elif re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
        api_base = _from_url(value)
    elif _DOMAIN_RE.match(value.rstrip(".")):
        api_base = _from_domain(value.rstrip("."))
    else:
        raise ValueError(
            f"Unknown Genesys region {value!r}. Use one of: "
            + ", ".join(valid_region_names())
            + "; or a domain such as 'mypurecloud.ie'"
        )
    return api_base, login_base_for(api_base)
