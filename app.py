"""Start the bot: `python app.py` (Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT).

Flags: --http / --socket force a mode; --simulate-genesys uses the built-in Genesys simulator.
"""

from __future__ import annotations

import argparse
import os
import sys

from bot.config import ConfigError, load_dotenv_file, load_settings, print_problems


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
        print_problems(error, heading="The bot can't start; fix these settings in .env (see .env.example):")
        return 2

    from bot.runner import run

    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
