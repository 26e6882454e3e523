"""Load PureCloudPlatformClientV2 a piece at a time, as it is used.

The SDK's package `__init__` imports every one of its ~6,650 model and ~170 API modules: 3.1 s of
CPU and ~215 MB on these 2-core machines (`/usr/bin/time python -c "import PureCloudPlatformClientV2"`),
for a bot that uses four APIs and a few dozen models. At start-up that import shared the GIL with
the first Slack acks and made the slowest of a burst twice as slow (issue 11). We keep the
official SDK and its code unchanged; only the loading differs.

`install()` puts stand-ins for the package and its `models` and `apis` subpackages in
`sys.modules`: modules with the same directory (so `import PureCloudPlatformClientV2.api_client`
finds the real file) and the same names, each name resolved the first time it is asked for
(PEP 562 module `__getattr__`), from the `from .x import Name` lines of the real `__init__` files.
The SDK's deserializer looks models up the same way (`eval('models.' + name)`), so it works
unchanged. If the SDK is already imported, or its layout is not the expected one, nothing changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import threading
import types
from pathlib import Path
from typing import Any

PACKAGE = "PureCloudPlatformClientV2"
_NAMED = re.compile(r"^from \.([\w.]+) import (\w+)\s*$", re.MULTILINE)
_installing = threading.Lock()


def install() -> bool:
    """Stand the lazy package in for the real one; True if it is (now or already) in place."""
    with _installing:
        current = sys.modules.get(PACKAGE)
        if current is not None:
            return isinstance(current, _LazyPackage)
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations or not spec.origin:
            return False
        root = Path(spec.origin).parent
        try:
            names = {sub: _names(root / sub / "__init__.py") for sub in ("", "models", "apis")}
        except OSError:
            return False
        if not names[""] or not names["models"]:
            return False  # not the layout this was written for: let the usual import run
        package = _LazyPackage(PACKAGE, spec, names[""])
        sys.modules[PACKAGE] = package
        for sub in ("models", "apis"):
            sub_spec = importlib.util.find_spec(f"{PACKAGE}.{sub}")
            if sub_spec is None:
                continue
            module = _LazyPackage(f"{PACKAGE}.{sub}", sub_spec, names[sub])
            sys.modules[module.__name__] = module
            setattr(package, sub, module)
        return True


def _names(init: Path) -> dict[str, str]:
    """`Name → submodule` from an `__init__.py` made of `from .submodule import Name` lines."""
    return {name: module for module, name in _NAMED.findall(init.read_text(encoding="utf-8"))}


class _LazyPackage(types.ModuleType):
    """A package whose public names are imported on first use."""

    def __init__(self, name: str, spec: Any, names: dict[str, str]) -> None:
        super().__init__(name)
        self.__spec__ = spec
        self.__loader__ = spec.loader
        self.__file__ = spec.origin
        self.__path__ = list(spec.submodule_search_locations or [])
        self.__package__ = name
        self._lazy_names = names

    def __getattr__(self, attr: str) -> Any:
        module = self.__dict__.get("_lazy_names", {}).get(attr)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(f"{self.__name__}.{module}"), attr)
        setattr(self, attr, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._lazy_names))
