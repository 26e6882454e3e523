"""Smoke test for the benchmark (`python -m bench`): runs every scenario at a tiny size.

It checks that the table is printed with every scenario's rows and that the figures are sane
(everything completed, nothing duplicated). It asserts no timings: a slow machine must pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = (
    "1. Ack under slow Genesys",
    "2. Round trips per transfer",
    "3. Burst under the rate limit",
    "4. Start-up and memory",
)


def test_benchmark_runs_at_a_tiny_size_and_prints_every_row(tmp_path):
    output, raw = tmp_path / "latest.md", tmp_path / "latest.json"
    command = [
        sys.executable, "-m", "bench",
        "--commands", "10", "--in-flight", "5", "--latency", "0.2",
        "--warm-transfers", "2", "--burst-transfers", "5", "--memory-transfers", "20",
        "--rate-limit", "6000",
        "--output", str(output), "--json", str(raw),
    ]
    # The timeout only guards against a hang; it is far above what any machine should need.
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout
    assert output.read_text() in table
    for header in ("- Date:", "- Machine:", "cores", "RAM", "- Python:"):
        assert header in table
    assert "| Scenario | Measure | Value | Limit | Result |" in table
    assert "ERROR" not in table

    results = {r["scenario"]: r for r in json.loads(raw.read_text())}
    assert tuple(results) == SCENARIOS
    rows = {(name, row["measure"]): row for name, r in results.items() for row in r["rows"]}
    for (name, measure), row in rows.items():
        assert f"| {name} | {measure} | {row['value']} |" in table
        assert row["verdict"] in ("met", "MISSED", "info")

    def value(scenario: int, prefix: str):
        name = SCENARIOS[scenario - 1]
        matches = [row["raw"] for (n, m), row in rows.items() if n == name and m.startswith(prefix)]
        assert len(matches) == 1, (name, prefix, [m for n, m in rows if n == name])
        return matches[0]

    assert value(1, "acks (") == 10
    for stat in ("p50", "p95", "p99", "max"):
        assert 0 < value(1, f"ack latency {stat}") < 60
    assert value(1, "acks over 3 s") >= 0

    assert value(2, "warm: API requests up to the POST") >= 2
    assert value(2, "cold: API requests up to the POST") >= value(2, "warm: API requests up to the POST")
    assert value(2, "cold: token requests") <= 1  # readiness may have logged in already

    assert value(3, "completed") == 5
    assert value(3, "failed") == 0
    assert value(3, "duplicated") == 0
    assert value(3, "429s received") >= 0
    assert value(3, "wall: first command → last transfer executed") > 0

    assert value(4, "process start → GET /healthz") > 0
    assert value(4, "transfers completed") == 40
    assert 50 < value(4, "RSS after 20 transfers") < 10_000
    assert 50 < value(4, "RSS after 40 transfers") < 10_000
