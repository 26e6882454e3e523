"""The benchmark for the Slack /transfer bot: `python -m bench --help` from the repo root.

bench/run.py (the runner, and how to write a scenario), bench/core.py (what scenarios share),
one bench/scenario_*.py per scenario, bench/plain_bolt.py (the plain Bolt app scenario 1b compares with).
"""
