"""Command line: ``python -m emulators.bitrix24 --host 127.0.0.1 --port 5601 [--state FILE] …``."""

import argparse
import contextlib
import logging
import signal
import sys

from .server import Bitrix24Emulator


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulators.bitrix24", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5601)
    parser.add_argument("--state", default=None, help="JSON file to load at start and save on shutdown")
    parser.add_argument("--rate", type=float, default=2.0, help="leaky bucket drain, requests per second")
    parser.add_argument("--burst", type=float, default=50, help="leaky bucket size")
    parser.add_argument("--token-ttl", type=float, default=3600, help="access token lifetime, seconds")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability of a random 500")
    parser.add_argument("--client-id", default="app.test")
    parser.add_argument("--client-secret", default="secret")
    parser.add_argument("--op-budget", type=float, default=480.0, help="operating seconds per method / 10 min")
    parser.add_argument("--op-cost", type=float, default=0.005, help="simulated seconds per command")
    parser.add_argument("--create-portal", action="store_true", help="create one portal if the state is empty")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    emulator = Bitrix24Emulator(
        host=args.host,
        port=args.port,
        rate=args.rate,
        burst=args.burst,
        token_ttl=args.token_ttl,
        fault_rate=args.fault_rate,
        client_id=args.client_id,
        client_secret=args.client_secret,
        op_budget=args.op_budget,
        op_cost=args.op_cost,
        state_file=args.state,
    ).bind()
    if args.create_portal and not emulator.store.portals:
        print(emulator.create_portal(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"Bitrix24 emulator on {emulator.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        emulator.serve_forever()


if __name__ == "__main__":
    main()
