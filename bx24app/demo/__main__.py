"""``python -m bx24app.demo [run|pay] [options]`` — see ``bx24app/demo/__init__.py`` and README.md."""

import signal
import sys

from .options import environment_prepare, parser_build


def _stop_on_sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parser_build().parse_args(argv)
    environment_prepare(args)
    if args.command == "pay":
        from .pay import pay_main

        return pay_main(args)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background (SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    import django

    django.setup()
    from .run import demo_run

    return demo_run(args)


if __name__ == "__main__":
    sys.exit(main())
