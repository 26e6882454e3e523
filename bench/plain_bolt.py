"""A plain Bolt app to compare the bot's start-up acks with (scenario 1b): `/transfer` only acks.

    SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... SLACK_API_URL=http://127.0.0.1:N/api/ \
        python -m bench.plain_bolt --port 3000 --threads 16

A minimal slack_bolt App with one command listener, served by waitress with the given thread
count (the bot's HTTP_THREADS default is 16) on 127.0.0.1, with GET /healthz = 200 once serving.
It imports nothing of the bot.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def build_app() -> Callable:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ.get("SLACK_API_URL") or None)
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False)

    @app.command("/transfer")
    def transfer(ack: Ack, command: dict) -> None:
        ack(f"Working on it: {str(command.get('text') or '')[:80]}")

    events = SlackRequestHandler(app)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/slack/events":
            return events(environ, start_response)
        status, body = ("200 OK", b'{"status": "ok"}') if path == "/healthz" else ("404 Not Found", b"not found")
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.plain_bolt", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=16)
    args = p.parse_args(argv)
    from waitress import serve

    serve(build_app(), host=args.host, port=args.port, threads=args.threads, connection_limit=1000,
          ident="plain-bolt")


if __name__ == "__main__":
    main()
