"""Use cases: receive, validate, approve, execute, confirm, recover. No Slack, no HTTP, no SQL."""
