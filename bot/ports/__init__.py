"""What the use cases need from the outside world, as protocols. Adapters implement them.

Nothing here imports an adapter (Genesys SDK, SQL, Slack), so the service and its unit tests
depend on these files only.
"""
