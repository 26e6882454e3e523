"""Per-endpoint work: build the SDK request, run it through the client's loop, map the answer.

Each function takes the SdkGenesysClient (for `run()` and the SDK API classes) as its first
argument; nothing here retries, paces or maps failures itself.
"""
