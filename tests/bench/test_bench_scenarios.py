"""Smoke tests for the fault run (issue 14) and the shutdown scenario (issue 11 §4) at a tiny size.

Each runs the scenario's `run(ctx)` for real (bot processes, the simulator, a fake Slack, SQLite or
PostgreSQL) and checks that every row is there and the counts add up. No timing is asserted: a
slow machine must pass. What Genesys did is asserted (nobody told the wrong outcome, nothing
transferred twice), since any run at any size must hold that.
"""

from __future__ import annotations

import argparse

import pytest

from bench import scenario_faults, scenario_shutdown
from tests.integration.conftest import postgres_url  # noqa: F401 - skip (or fail in CI) without PostgreSQL
from tests.kit.net import free_port

VERDICTS = ("met", "MISSED", "info")


def context(tmp_path, **args):
    return argparse.Namespace(args=argparse.Namespace(**args), workdir=tmp_path)


def rows_of(res) -> dict[str, object]:
    assert res.error is None, res.error
    for row in res.rows:
        assert row.scenario == res.name and row.verdict in VERDICTS, row
    return {row.measure: row.raw for row in res.rows}


def value(rows: dict[str, object], prefix: str):
    matches = [raw for measure, raw in rows.items() if measure.startswith(prefix)]
    assert len(matches) == 1, (prefix, list(rows))
    return matches[0]


@pytest.mark.postgres
def test_fault_run_at_a_tiny_size_reports_every_row_with_sane_counts(tmp_path, postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("TEST_POSTGRES_URL", postgres_url)
    n = 12
    res = scenario_faults.run(context(tmp_path, fault_commands=n, fault_duration=6.0, fault_slack_rate=0.3,
                                      rate_limit=6000, burst=50))

    rows = rows_of(res)
    assert scenario_faults.smoke_check(rows) == []
    assert value(rows, "commands sent") == n
    assert value(rows, "unanswered requesters") == 0
    assert value(rows, "wrong outcomes") == 0
    assert value(rows, "duplicate transfers") == 0
    assert 0 <= value(rows, "duplicate Slack posts") <= n
    assert 0 <= value(rows, "answers 'outcome unknown'") <= n
    assert 0 < value(rows, "transfers executed by Genesys") <= n
    assert 0 <= value(rows, "sent to the killed replica before the kill") <= n // 2
    assert "SIGKILL" in res.notes[0] and "not restarted" in res.notes[0]


def test_smoke_check_catches_a_wrong_outcome_and_a_missing_row():
    rows = {"commands sent": 4, "commands acked": 4, "commands without an ack: cut": 0,
            "commands without an ack: refused": 0, "transfers executed by Genesys": 4,
            "unanswered requesters (of 4 acked)": 0, "wrong outcomes (…)": 1, "duplicate transfers (…)": 0,
            "duplicate Slack posts (…)": 0, "Genesys 429s (…)": 0, "Slack calls failed on purpose": 2,
            "sent to the killed replica before the kill: answered": 1}
    assert scenario_faults.smoke_check(rows) == ["wrong outcomes"]
    del rows["commands sent"]
    assert scenario_faults.smoke_check(rows)[0].startswith("rows:")


def test_fault_run_without_a_database_is_reported_as_an_error_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/postgres")

    res = scenario_faults.run(context(tmp_path, fault_commands=2, fault_duration=1.0))

    assert res.error and "PostgreSQL not reachable" in res.error
    assert res.rows == []


def test_shutdown_at_a_tiny_size_reports_every_row_with_sane_counts(tmp_path):
    n = 6
    res = scenario_shutdown.run(context(tmp_path, shutdown_commands=n, shutdown_latency=1.0))

    rows = rows_of(res)
    assert scenario_shutdown.smoke_check(rows) == []
    assert value(rows, "commands acked before SIGTERM") == n
    assert value(rows, "SIGTERM → process exited") > 0
    assert value(rows, "requesters with a final answer") == n
    assert value(rows, "conversations transferred twice") == 0
    assert value(rows, "wrong outcomes") == 0
    assert 0 <= value(rows, "duplicate Slack posts") <= n
    assert 0 < value(rows, "transfers executed by Genesys") <= n
