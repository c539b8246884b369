"""Command line: python -m emulators.onec --host 127.0.0.1 --port 5602 [--size small|medium|large] ..."""

import argparse
import time

from .server import OneCEmulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulators.onec", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5602)
    parser.add_argument("--size", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--user", default="odata")
    parser.add_argument("--password", default="odata")
    parser.add_argument("--infobase", default="ut103")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    emu = OneCEmulator(host=args.host, port=args.port, size=args.size, seed=args.seed, user=args.user,
                       password=args.password, infobase=args.infobase, latency_ms=args.latency_ms,
                       fault_rate=args.fault_rate)
    print(f"1С УТ 10.3 OData emulator: {args.size} data set (seed {args.seed}) generated in "
          f"{time.monotonic() - started:.1f} s", flush=True)
    print(f"OData: http://{args.host}:{args.port}/{args.infobase}/odata/standard.odata/ "
          f"(Basic {args.user}/{args.password}); control: http://{args.host}:{args.port}/_emulator/cases", flush=True)
    try:
        emu.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
