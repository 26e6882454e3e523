"""`python -m bot.playground` (`make demo`): the bot, a fake Slack page and the Genesys simulator on 127.0.0.1.

Prints one URL. Needs no `.env` and no Slack workspace. Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from bot.playground.runner import DEFAULT_PORT, PlaygroundRun


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.playground", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or DEFAULT_PORT),
                        help="port of the page and the fake Slack (default: $PORT or 3000; 0 = any free port)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PLAYGROUND_DATA") or ".playground"),
                        help="where the bot's SQLite database and log go (default .playground/)")
    parser.add_argument("--keep-data", action="store_true", help="keep the previous run's transfer requests")
    parser.add_argument("--log-level", default="INFO", help="the bot's LOG_LEVEL (its log is in the data folder)")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run = PlaygroundRun(port=args.port, data_dir=args.data_dir, log_level=args.log_level.upper(),
                            keep_data=args.keep_data)
    except OSError as error:
        print(f"The playground could not listen on 127.0.0.1:{args.port} ({error.strerror or error}); "
              "pick another port, e.g. PORT=8080 make demo", file=sys.stderr)
        return 1
    try:
        run.start()
    except (RuntimeError, OSError) as error:
        print(f"The playground could not start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        run.stop()
        return 130
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # from here on, Ctrl-C is a stop request like SIGTERM
    print(f"Slack playground: {run.url}", flush=True)
    print(f"(the bot's log: {run.log_path}; Ctrl-C stops everything)", flush=True)
    try:
        while not stop.wait(0.5):
            if run.process is not None and run.process.poll() is not None:
                print(f"The bot stopped (status {run.process.returncode}):\n{run.log_tail()}", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        run.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
