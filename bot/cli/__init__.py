"""The operator's command line: the same service as Slack, worded for a terminal."""
