"""The `outcrop` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from types import ModuleType

import duckdb

from outcrop.cli import alerts, dashboard, demo, ingest, jobs, report, serve, sql
from outcrop.cli.access import add_db_argument
from outcrop.core.errors import OutcropError
from outcrop.core.settings import ConfigError

log = logging.getLogger("outcrop")

# name -> module with HELP, add_arguments(parser) and run(args) -> exit code
COMMANDS: tuple[tuple[str, ModuleType], ...] = (
    ("serve", serve), ("sql", sql), ("ingest", ingest), ("report", report), ("demo", demo),
    ("dashboard", dashboard),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="outcrop", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS:
        help_text: str = module.HELP
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_db_argument(p)
        module.add_arguments(p)
        run: Callable[[argparse.Namespace], int] = module.run
        p.set_defaults(func=run)
    jobs.add_parser(sub)
    alerts.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"outcrop: configuration error: {exc}", file=sys.stderr)
        return 2
    except (OutcropError, duckdb.Error) as exc:
        print(f"outcrop: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
