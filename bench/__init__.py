"""Benchmark for the Slack /transfer bot (issue #4). Run from the repo root: `python -m bench --help`."""
