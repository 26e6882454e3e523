"""Command line for operators: the same service as Slack.

    python -m bot transfer <conversation-id|link> "<target>" [--simulate-genesys]
    python -m bot transfer --agent alice@example.com "<target>"
    python -m bot queues [filter]            queues with live health
    python -m bot cancel <request-id> [--simulated]   withdraw a pending request
    python -m bot audit --since 24h --format csv|json [--simulated]
    python -m bot simulate [--port 9000]

A command-line transfer is an operator action: it runs directly under the operator's identity
(`cli:<user>`), is audited as such, and never leaves a request waiting for a Slack approval that
nobody could see.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta

from bot.config import ConfigError, load_dotenv_file, load_settings, print_problems

CLI_SDK_WAIT_SECONDS = 120.0
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SIMULATED_HELP = ("the database of transfers made with --simulate-genesys (default without DATABASE_URL: "
                  "transfer-bot-simulated.db instead of transfer-bot.db)")


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
        print_problems(error, heading="Fix these settings in .env (see .env.example):")
        raise SystemExit(2) from None


def _database_settings(simulated: bool):
    """Settings for commands that need the database only: no Genesys settings required.

    Without DATABASE_URL that is the bot's own default database (transfer-bot.db), or with
    --simulated the simulator's separate one (transfer-bot-simulated.db).
    """
    from dataclasses import replace

    from bot.config.settings import DEFAULT_DATABASE_URL

    settings = _settings(simulate=True)
    if not simulated and not os.environ.get("DATABASE_URL", "").strip():
        settings = replace(settings, database_url=DEFAULT_DATABASE_URL)
    return settings


class _NoGenesys:
    """Cancelling a request needs no Genesys (and must not start a simulator to get one)."""

    status = "unused"


def _runtime(settings, genesys=None):
    from bot.logs import configure_logging
    from bot.ports.store import StoreUnavailable
    from bot.service.sweeper import Sweeper
    from bot.wiring import build_runtime

    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level, settings.log_format,
                      secrets=[settings.genesys_client_secret])
    try:
        runtime = build_runtime(settings, with_slack=False, background=False, genesys=genesys)
    except StoreUnavailable as error:
        print(f"The database is unreachable ({error}); check DATABASE_URL.", file=sys.stderr)
        raise SystemExit(2) from None
    # No recovery or sweeping here (this process must not take over others' work), but the leases
    # on its own work are renewed: a running bot must not take a slow command for a dead one.
    runtime.sweeper = Sweeper().add("heartbeat", runtime.service.heartbeat, every=5.0).start()
    return runtime


def cmd_transfer(args: argparse.Namespace) -> int:
    from bot.cli.wording import outcome_text, problem_text
    from bot.domain.parsing import AGENT_EMAIL, parse_call_ref, parse_target
    from bot.domain.problems import Problem
    from bot.domain.request import Ask, RequestState, Via

    words = list(args.words)
    if args.agent:
        call: object = AGENT_EMAIL + args.agent.strip().lower()
    else:
        call = parse_call_ref(words.pop(0))
    target = parse_target(" ".join(words))
    for part in (call, target):
        if isinstance(part, Problem):
            print(f"Not transferred: {problem_text(part)}", file=sys.stderr)
            return 2
    settings = _settings(args.simulate_genesys)
    runtime = _runtime(settings)
    operator = f"cli:{getpass.getuser()}"
    try:
        # One command, nothing else to serve: wait for the SDK as long as it takes, before storing anything.
        runtime.genesys.wait_ready(CLI_SDK_WAIT_SECONDS)
        request = runtime.service.submit(Ask(call, target), operator, via=Via.CLI, operator=True,
                                         simulated=settings.simulate_genesys)
        request = _await_confirmation(runtime.service, request)
    finally:
        runtime.stop(grace_seconds=2.0)
    print(outcome_text(request), file=sys.stdout if request.state in (RequestState.SUCCEEDED,
                                                                        RequestState.ACCEPTED) else sys.stderr)
    if request.correlation_id:
        print(f"Genesys correlation id: {request.correlation_id}")
    print(f"Request id: {request.id}")
    return 0 if request.state in (RequestState.SUCCEEDED, RequestState.ACCEPTED) else 1


def _await_confirmation(service, request, timeout: float = 10.0):
    """Follow an accepted transfer for a few seconds, as the Slack result message would."""
    from bot.domain.request import RequestState

    deadline = time.monotonic() + timeout
    while request is not None and request.state is RequestState.ACCEPTED and time.monotonic() < deadline:
        time.sleep(0.5)
        request = service.check(service.get(request.id)) or service.get(request.id)
    return request


def cmd_queues(args: argparse.Namespace) -> int:
    from bot.cli.wording import problem_text
    from bot.ports.genesys import GenesysError
    from bot.service.genesys_problems import During, from_genesys

    settings = _settings(args.simulate_genesys)
    runtime = _runtime(settings)
    health: dict = {}
    try:
        runtime.genesys.wait_ready(CLI_SDK_WAIT_SECONDS)  # no 3 s ack to protect here
        queues = runtime.service.ctx.queues
        queues.catalog(wait=True)
        options = queues.search(args.filter or "", limit=args.limit)
        if options:
            try:
                health = runtime.genesys.queue_health([o.queue.id for o in options])
            except GenesysError as error:  # the names are still worth listing
                problem = from_genesys(error, during=During.FINDING_QUEUE)
                print(f"Queue health unavailable: {problem_text(problem)}", file=sys.stderr)
    finally:
        runtime.stop(grace_seconds=1.0)
    for option in options:
        h = health.get(option.queue.id)
        facts = f"{h.available} available, {h.waiting} waiting" if h else "health unknown"
        division = f" ({option.queue.division_name})" if option.queue.division_name else ""
        print(f"{option.queue.name}{division}\t{facts}\t{option.queue.id}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from bot.cli.wording import problem_text
    from bot.service.decisions import ClickOutcome

    settings = _database_settings(args.simulated)
    runtime = _runtime(settings, genesys=_NoGenesys())
    try:
        result = runtime.service.operator_cancel(args.request_id, f"cli:{getpass.getuser()}")
    finally:
        runtime.stop(grace_seconds=1.0)
    if result.outcome is ClickOutcome.DONE:
        print(f"Cancelled request {args.request_id}; the requester's Slack messages update when the bot next syncs.")
        return 0
    if result.outcome is ClickOutcome.ALREADY and result.request is not None:
        print(f"Nothing to cancel: request {args.request_id} is {result.request.state.value}.", file=sys.stderr)
        return 1
    print(f"Not cancelled: {problem_text(result.problem)}", file=sys.stderr)
    return 1


def cmd_audit(args: argparse.Namespace) -> int:
    from bot.domain.request import AUDIT_COLUMNS
    from bot.ports.store import StoreUnavailable
    from bot.store import open_store

    settings = _database_settings(args.simulated)  # the audit needs only the database
    try:
        store = open_store(settings.database_url)
        try:
            events = store.audit_since(args.since)
        finally:
            store.close()
    except StoreUnavailable as error:
        print(f"The database is unreachable ({error}); check DATABASE_URL.", file=sys.stderr)
        return 2
    rows = [{c: _cell(getattr(e, c)) for c in AUDIT_COLUMNS} for e in events]
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=AUDIT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return 0


def _cell(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def cmd_simulate(args: argparse.Namespace) -> int:
    from bot.simulator.__main__ import main as simulator_main

    return simulator_main(["--seed-demo", "--port", str(args.port)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Genesys transfer bot: command line")
    sub = parser.add_subparsers(dest="command", required=True)

    transfer = sub.add_parser("transfer", help="blind-transfer a live conversation now, as an operator")
    transfer.add_argument("words", nargs="+", metavar="[call] target",
                          help="conversation id (UUID) or interaction link, then a queue name (may contain "
                               "spaces), agent:<email>, or +<E.164 number>")
    transfer.add_argument("--agent", help="find the call by the agent's email instead of its id")
    transfer.add_argument("--simulate-genesys", action="store_true", help="use the built-in Genesys simulator")
    transfer.set_defaults(func=cmd_transfer)

    queues = sub.add_parser("queues", help="list queues with their live health")
    queues.add_argument("filter", nargs="?", default="", help="part of a queue name")
    queues.add_argument("--limit", type=int, default=100)
    queues.add_argument("--simulate-genesys", action="store_true")
    queues.set_defaults(func=cmd_queues)

    cancel = sub.add_parser("cancel", help="withdraw a pending request (operators)")
    cancel.add_argument("request_id")
    cancel.add_argument("--simulated", action="store_true", help=SIMULATED_HELP)
    cancel.set_defaults(func=cmd_cancel)

    audit = sub.add_parser("audit", help="export the audit trail of transfer requests")
    audit.add_argument("--since", type=parse_since, default=parse_since("24h"), help="e.g. 24h, 7d, or ISO time")
    audit.add_argument("--format", choices=("csv", "json"), default="csv")
    audit.add_argument("--simulated", action="store_true", help=SIMULATED_HELP)
    audit.set_defaults(func=cmd_audit)

    simulate = sub.add_parser("simulate", help="run the Genesys simulator with the demo org")
    simulate.add_argument("--port", type=int, default=9000)
    simulate.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
