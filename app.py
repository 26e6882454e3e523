"""Start the bot: `python app.py` (Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT).

Flags: --http / --socket force a mode; --simulate-genesys uses the built-in Genesys simulator.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from bot.config import ConfigError, load_dotenv_file, load_settings
from bot.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Slack /transfer bot for Genesys Cloud")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_const", const="http", dest="mode", help="serve HTTP on PORT")
    mode.add_argument("--socket", action="store_const", const="socket", dest="mode", help="use Socket Mode")
    parser.add_argument("--simulate-genesys", action="store_true", help="use the built-in Genesys simulator")
    args = parser.parse_args(argv)

    load_dotenv_file()
    try:
        settings = load_settings(os.environ, force_mode=args.mode, simulate=args.simulate_genesys)
    except ConfigError as error:
        print("The bot can't start; fix these settings in .env (see .env.example):", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    from bot.wiring import build_runtime

    runtime = build_runtime(settings)
    log = logging.getLogger("bot")
    demo = runtime.extras.get("demo")
    if demo is not None:
        log.info("Genesys simulator demo org (try /transfer <conversation> <queue>):\n%s", demo.summary())

    if settings.mode == "socket":
        return run_socket_mode(runtime, settings, log)

    from bot.slack.server import create_http_server, make_wsgi_app

    server = create_http_server(
        make_wsgi_app(runtime.bolt_app, runtime.health), host=settings.host, port=settings.port,
        threads=settings.http_threads,
    )
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    log.info("HTTP mode: listening on port %s (POST /slack/events, GET /healthz)", server.effective_port)
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        runtime.close()
    return 0


def run_socket_mode(runtime, settings, log: logging.Logger) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack.bolt_app import make_web_client

    # apps.connections.open must go to SLACK_API_URL too (GovSlack), not the SDK's default host.
    opener = make_web_client("", settings.slack_api_url)
    handler = SocketModeHandler(runtime.bolt_app, settings.slack_app_token, web_client=opener)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("starting in Socket Mode")
    try:
        handler.connect()
    except (SlackApiError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        print(
            f"Slack refused the Socket Mode connection ({reason}). Check SLACK_APP_TOKEN: it must be an "
            "app-level token (xapp-) with the connections:write scope, and Socket Mode must be enabled.",
            file=sys.stderr,
        )
        runtime.close()
        return 2
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
