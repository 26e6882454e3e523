"""Smoke test for the benchmark (`python -m bench --tiny`): every scenario at a tiny size.

It checks that the table is printed with every scenario's rows and that the figures are sane
(nothing lost, nothing duplicated, every result confirmed). It asserts no timings: a slow or
busy machine must pass. Scenarios registered from other modules get the generic checks and
their own `smoke_check(rows)` when they define one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import (
    scenario_ack,
    scenario_burst,
    scenario_memory,
    scenario_options,
    scenario_round_trips,
    scenario_start_burst,
)
from bench.run import SCENARIOS, scenario_name

ROOT = Path(__file__).resolve().parents[2]


def run_tiny(tmp_path: Path) -> tuple[str, list[dict]]:
    output, raw = tmp_path / "latest.md", tmp_path / "latest.json"
    command = [sys.executable, "-m", "bench", "--tiny", "--output", str(output), "--json", str(raw)]
    # The timeout only guards against a hang; it is far above what any machine should need.
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert output.read_text() in done.stdout
    return done.stdout, json.loads(raw.read_text())


def one(rows: dict[str, object], prefix: str):
    matches = [raw for measure, raw in rows.items() if measure.startswith(prefix)]
    assert len(matches) == 1, (prefix, list(rows))
    return matches[0]


def check_ack(rows):
    assert one(rows, "acks (") == 10
    for stat in ("p50", "p95", "p99", "max"):
        assert 0 < one(rows, f"ack latency {stat}") < 60
    assert one(rows, "acks over 3 s") >= 0


def check_start_burst(rows):
    assert one(rows, "bot: acks ok") == 5 and one(rows, "plain Bolt: acks ok") == 5
    for who in ("bot", "plain Bolt"):
        p50, p99, top = (one(rows, f"{who}: ack latency {s}") for s in ("p50", "p99", "max"))
        assert 0 < p50 <= p99 <= top < 60
        assert len(one(rows, f"{who}: slowest ack in each run")) == 1
    assert one(rows, "bot vs plain Bolt: median over runs of each run's p99") > 0
    assert 0 < one(rows, "process start → first /healthz 200") < 120


def check_round_trips(rows):
    assert one(rows, "warm: API requests up to the POST") >= 2
    assert one(rows, "cold: API requests up to the POST") >= one(rows, "warm: API requests up to the POST")
    assert one(rows, "cold: token requests") <= 1  # readiness may have logged in already
    assert one(rows, "warm: reads after the POST") >= 1  # the confirmation


def check_burst(rows):
    assert one(rows, "transfers executed") == 5
    assert one(rows, "failed") == 0
    assert one(rows, "duplicated") == 0
    assert one(rows, "Slack results confirmed at the end") == 5
    assert one(rows, "Slack results left 'not yet confirmed'") == 0
    assert one(rows, "commands with no result") == 0
    assert one(rows, "results posted as a second message") == 0
    assert one(rows, "confirmation reads") >= 5
    assert 0 < one(rows, "wall: first command → last transfer executed") <= one(
        rows, "wall: first command → last confirmed result")


def check_memory(rows):
    assert one(rows, "process start → GET /healthz") > 0
    assert one(rows, "process start → Genesys SDK client loaded") >= one(rows, "process start → GET /healthz")
    assert one(rows, "process start → GET /readyz") >= one(rows, "process start → GET /healthz")
    assert one(rows, "transfers confirmed") == 40
    assert 50 < one(rows, "RSS after 20 transfers") < 10_000
    assert 50 < one(rows, "RSS after 40 transfers") < 10_000


def check_options(rows):
    assert one(rows, "answers (") == 12
    assert one(rows, "answers with queues in them") == 12  # served from the cache, never empty
    for stat in ("p50", "p99", "max"):
        assert 0 < one(rows, f"options latency {stat}") < 60


CHECKS = {
    scenario_ack.NAME: check_ack,
    scenario_start_burst.NAME: check_start_burst,
    scenario_round_trips.NAME: check_round_trips,
    scenario_burst.NAME: check_burst,
    scenario_memory.NAME: check_memory,
    scenario_options.NAME: check_options,
}


def test_benchmark_runs_every_scenario_at_a_tiny_size_and_prints_every_row(tmp_path):
    table, results = run_tiny(tmp_path)

    for header in ("- Date:", "- Machine:", "cores", "RAM", "- Python:"):
        assert header in table
    assert "| Scenario | Measure | Value | Limit | Result |" in table
    assert "ERROR" not in table
    assert len(results) == len(SCENARIOS)  # one result per registered scenario, in the table's order
    assert set(CHECKS) <= {r["scenario"] for r in results}
    for (key, module), result in zip(SCENARIOS.items(), results, strict=True):
        name = result["scenario"]
        assert name == scenario_name(key) or not hasattr(module, "NAME"), (key, name)
        assert result["error"] is None and result["rows"], name
        measures = [row["measure"] for row in result["rows"]]
        assert len(measures) == len(set(measures)), f"{name}: a measure printed twice"
        for row in result["rows"]:
            assert f"| {name} | {row['measure']} | {row['value']} | {row['limit']} | {row['verdict']} |" in table
            assert row["verdict"] in ("met", "MISSED", "info")
        rows = {row["measure"]: row["raw"] for row in result["rows"]}
        if name in CHECKS:
            CHECKS[name](rows)
        own = getattr(module, "smoke_check", None)
        if own is not None:
            assert own(rows) == [], name
