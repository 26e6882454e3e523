"""Command line: the same service as Slack, for operators.

    python -m bot transfer <conversation-id> "<queue name>" [--simulate-genesys]
    python -m bot audit --since 24h --format csv|json
    python -m bot simulate [--port 9000]

`transfer` checks Genesys credentials and permissions before anyone wires up Slack: it reads
the call, resolves the queue and performs the transfer, printing what Slack would show.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta

from bot.config import ConfigError, load_dotenv_file, load_settings

_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """'24h', '30m', '7d' or an ISO-8601 time (UTC if no zone)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected e.g. 24h, 30m, 7d or 2026-11-25T08:00, got {value!r}") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _settings(simulate: bool):
    load_dotenv_file()
    try:
        return load_settings(os.environ, simulate=simulate, require_slack=False)
    except ConfigError as error:
        print("Fix these settings in .env (see .env.example):", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_transfer(args: argparse.Namespace) -> int:
    from bot.domain.model import RequestState
    from bot.domain.parsing import ParseError, TransferCommand, parse_transfer_text
    from bot.logs import configure_logging
    from bot.service.problems import Problem
    from bot.wiring import build_runtime

    parsed = parse_transfer_text(f"{args.conversation_id} {args.queue}")
    if not isinstance(parsed, TransferCommand):
        print(parsed.message if isinstance(parsed, ParseError) else "usage: transfer <id> <queue>", file=sys.stderr)
        return 2
    settings = _settings(args.simulate_genesys)
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    runtime = build_runtime(settings, with_slack=False)
    try:
        ending = runtime.service.submit(
            requester=f"cli:{getpass.getuser()}", conversation_id=parsed.conversation_id, queue_name=parsed.queue_name
        )
    except Problem as problem:
        print(f"Not transferred: {problem}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    request = ending.request
    if request.state is RequestState.SUCCEEDED:
        word = "Transferred" if request.outcome == "confirmed" else "Transfer sent (not yet confirmed)"
        print(f"{word}: conversation {request.conversation_id} → {request.queue_name} (queue id {request.queue_id})")
        print(f"Genesys correlation id: {request.correlation_id}")
        return 0
    print(f"Not transferred: {ending.problem or request.state.value}", file=sys.stderr)
    return 1


AUDIT_FIELDS = ("at", "request_id", "conversation_id", "from_state", "to_state", "actor", "correlation_id", "detail")


def cmd_audit(args: argparse.Namespace) -> int:
    from bot.store.sql import open_store

    settings = _settings(simulate=True)  # the audit needs only the database
    store = open_store(settings.database_url)
    try:
        events = store.audit_since(args.since)
    finally:
        store.close()
    rows = [
        {f: (getattr(e, f).isoformat() if f == "at" else getattr(e, f)) for f in AUDIT_FIELDS} for e in events
    ]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=AUDIT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulator.__main__ import main as simulator_main

    return simulator_main(["--seed-demo", "--port", str(args.port)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Genesys transfer bot: command line")
    sub = parser.add_subparsers(dest="command", required=True)

    transfer = sub.add_parser("transfer", help="blind-transfer a live call to a queue (no Slack needed)")
    transfer.add_argument("conversation_id", help="Genesys conversation id (UUID) or interaction link")
    transfer.add_argument("queue", nargs="+", help="queue name (may contain spaces)")
    transfer.add_argument("--simulate-genesys", action="store_true", help="use the built-in Genesys simulator")
    transfer.set_defaults(func=cmd_transfer)

    audit = sub.add_parser("audit", help="export the audit trail of transfer requests")
    audit.add_argument("--since", type=parse_since, default=parse_since("24h"), help="e.g. 24h, 7d, or ISO time")
    audit.add_argument("--format", choices=("csv", "json"), default="csv")
    audit.set_defaults(func=cmd_audit)

    simulate = sub.add_parser("simulate", help="run the Genesys simulator with the demo org")
    simulate.add_argument("--port", type=int, default=9000)
    simulate.set_defaults(func=cmd_simulate)

    args = parser.parse_args(argv)
    if args.command == "transfer":
        args.queue = " ".join(args.queue)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
