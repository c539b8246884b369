"""Command line of the demo and the environment it sets before Django reads its settings."""

import argparse
import os

DEFAULT_RATE = 10.0  # req/s of the emulated portal (a real portal: 2 req/s, burst 50 — see --rate)
DEFAULT_BURST = 50
HOST = "127.0.0.1"


def parser_build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bx24app.demo",
        description="Run the connector on embedded defaults with the built-in 1С and Bitrix24 emulators "
                    "(`pay`: pay an invoiced order in the running demo's 1С emulator).")
    parser.add_argument("command", nargs="?", choices=["run", "pay"], default="run")
    parser.add_argument("--size", choices=["small", "medium", "large"], default="medium",
                        help="1С data set (default medium: ~2,000 counterparties, ~3,000 products and orders)")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help=f"REST requests per second of the emulated portal (default {DEFAULT_RATE:g}, "
                             f"burst {DEFAULT_BURST}; a real portal allows 2, Enterprise 5)")
    parser.add_argument("--port", type=int, default=8000, help="port of the web app (default 8000)")
    parser.add_argument("--b24-port", type=int, default=5601, help="port of the Bitrix24 emulator (default 5601)")
    parser.add_argument("--onec-port", type=int, default=5602, help="port of the 1С emulator (default 5602)")
    parser.add_argument("--no-wait", action="store_true", help="exit after the first sync and the summary")
    parser.add_argument("--schedule-seconds", type=float, default=60.0,
                        help="how often the schedule looks for due portals (celery beat: 60; each portal still "
                             "syncs at its own interval, 1 minute in the demo)")
    parser.add_argument("--log", default="", help="log file (default var/demo.log)")
    return parser


def environment_prepare(args) -> None:
    """Profile ``demo``, our URL, the emulated portal as the only trusted OAuth server, http:// allowed."""
    os.environ.setdefault("APP_ENV", "demo")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bx24app.settings")
    os.environ["APP_BASE_URL"] = f"http://{HOST}:{args.port}"
    os.environ["BITRIX24_OAUTH_SERVERS"] = f"http://{HOST}:{args.b24_port}"
    os.environ["BITRIX24_ALLOW_HTTP"] = "true"
    os.environ["BITRIX24_RATE_LIMIT"] = str(args.rate)
