"""`python -m bot.simulator --port 9000 --seed-demo`: serve a fake Genesys Cloud org until Ctrl-C."""

from __future__ import annotations

import argparse
import sys

from bot.simulator import GenesysSimulator, seed_demo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    p.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--seed-demo", action="store_true", help="add demo queues and conversations")
    p.add_argument("--client-id", default="sim-client")
    p.add_argument("--client-secret", default="sim-secret")
    p.add_argument("--rate-limit", type=int, default=300, help="requests per minute per client")
    p.add_argument("--burst", type=int, default=10)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    p.add_argument("--transfer-delay", type=float, default=0.0)
    p.add_argument("--token-ttl", type=int, default=86400)
    p.add_argument(
        "--auto-answer",
        type=float,
        default=None,
        help="seconds until an IDLE queue member answers a queue transfer (the demo seed uses 8)",
    )
    args = p.parse_args(argv)

    sim = GenesysSimulator(
        rate_limit_per_minute=args.rate_limit,
        burst=args.burst,
        token_ttl_seconds=args.token_ttl,
        latency=args.latency,
        client_id=args.client_id,
        client_secret=args.client_secret,
        transfer_delay=args.transfer_delay,
        port=args.port,
        auto_answer=args.auto_answer,
    )
    sim.start()
    print(f"Genesys simulator listening on {sim.url}  (API and /oauth/token)")
    print(f"  client id:     {sim.client_id}")
    print(f"  client secret: {sim.client_secret}")
    if args.seed_demo:
        seed = seed_demo(sim, auto_answer=args.auto_answer if args.auto_answer is not None else 8.0)
        print(seed.summary())
    print("Ctrl-C to stop.", flush=True)
    sim.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
