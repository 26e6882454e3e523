"""The Genesys Cloud adapter: the official SDK behind `GenesysPort`.

The SDK is loaded a piece at a time (see bot.genesys.sdk_import): every module here that imports
it is a submodule of this package, so this runs first.
"""

from bot.genesys.sdk_import import install as _install_lazy_sdk

_install_lazy_sdk()
