"""`outcrop serve`: receivers, pollers, scheduler and read API on one database."""

from __future__ import annotations

import argparse

from outcrop.cli.access import cli_settings

HELP = "run the collector, pollers, jobs and read API on one database"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, help="OTLP/HTTP port (default 4318)")
    parser.add_argument("--grpc-port", type=int, help="OTLP/gRPC port (default 4317)")
    parser.add_argument("--api-port", type=int, help="read API port (default 4320)")


def run(args: argparse.Namespace) -> int:
    from outcrop.collector.decode import decoder_name
    from outcrop.server import serve

    overrides = {k: v for k, v in (("host", args.host), ("http_port", args.http_port),
                                    ("grpc_port", args.grpc_port), ("api_port", args.api_port))
                 if v is not None}
    settings = cli_settings(args)
    if overrides:
        server = settings.server.model_copy(update=overrides)
        settings = settings.model_copy(update={"server": server})
    serve(settings, args.db, on_ready=lambda s: print(
        f"outcrop serving {args.db}: OTLP/HTTP {s.settings.server.host}:{s.ports.http}, "
        f"OTLP/gRPC :{s.ports.grpc}, API :{s.ports.api}; OTLP decoder: {decoder_name()}", flush=True))
    return 0
