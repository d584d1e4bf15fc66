"""``glucosestream api serve|hash-key|openapi``: the ingest API (REST and
Nightscout-compatible)."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from glucosestream.cli.errors import UserError, settings_error
from glucosestream.settings import Settings


def cmd_api_serve(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from glucosestream.ingest.api.auth import AuthConfigError
    from glucosestream.ingest.api.config import (
        LOCAL_API_KEY,
        LOCAL_NIGHTSCOUT_SECRET,
        load_ingest_settings,
    )
    from glucosestream.local.apigateway import serve

    try:
        ingest = load_ingest_settings()
        server = serve(settings, port=args.port, ingest=ingest, log_level=args.log_level)
    except ValidationError as error:
        raise UserError(settings_error(error).replace("GS_", "GS_INGEST_", 1)) from None
    except AuthConfigError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot listen on port {args.port or ingest.port}: {error}") from None
    print(
        f"ingest API on {server.url} (OpenAPI: {server.url}/openapi.json); Ctrl-C stops it",
        flush=True,
    )
    if settings.mode == "local" and ingest.api_keys is None and ingest.api_keys_file is None:
        print(
            f"  local development key (x-api-key): {LOCAL_API_KEY} (patients 'demo-*')", flush=True
        )
    if settings.mode == "local" and ingest.nightscout_secret is None:
        print(f"  local Nightscout API_SECRET: {LOCAL_NIGHTSCOUT_SECRET}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def cmd_api_hash_key(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.ingest.api.auth import sha256_hex

    key = sys.stdin.readline().strip()
    if len(key) < 16:
        raise UserError("read a key of fewer than 16 characters from stdin: use a long random key")
    print(sha256_hex(key))
    return 0


def cmd_api_nightscout_token(args: argparse.Namespace, settings: Settings) -> int:
    """Print the access token of a configured name (derived from the Nightscout secret)."""
    from glucosestream.ingest.api.auth import AuthConfigError
    from glucosestream.ingest.api.config import load_ingest_settings
    from glucosestream.ingest.api.nightscout_auth import NightscoutAuth

    try:
        ingest = load_ingest_settings()
        secret = ingest.nightscout(settings)
        if secret is None:
            raise UserError("no Nightscout secret is configured (GS_INGEST_NIGHTSCOUT_SECRET)")
        auth = NightscoutAuth.configure(secret, ingest.nightscout_token_roles())
    except AuthConfigError as error:
        raise UserError(str(error)) from None
    if args.name not in auth.tokens:
        configured = ", ".join(sorted(auth.tokens)) or "none"
        raise UserError(
            f"token {args.name!r} is not in GS_INGEST_NIGHTSCOUT_TOKENS (configured: {configured})"
        )
    roles = ", ".join(sorted(auth.tokens[args.name]))
    print(f"{auth.token_for(args.name)}\t{roles}")
    return 0


def cmd_api_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from consumers.ingest_api.handler import app

    print(app.get_openapi_json_schema())
    return 0
