"""``python -m glucosestream.local.moto_server -H 127.0.0.1 -p PORT``: moto's server, with the
routes it lacks for the AWS models botocore now ships.

moto gap: moto (5.2) registers Athena under the single path of Athena's old JSON 1.1 protocol
(``POST /``), but it finds each request's operation through botocore's service model, whose
Athena is now REST-JSON (``GET /workgroups/{WorkGroup}``, ``POST /query-executions``, …). So every
Athena call 404s: neither a boto3 client nor the local Athena API could read or create a
workgroup. :func:`add_rest_json_routes` registers the model's own request paths with moto's
Athena responder, which then parses them as it would any REST-JSON service.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import botocore.session


def rest_json_paths(service: str) -> list[str]:
    """moto URL patterns (``{0}`` = the service's URL base) for every request path of a
    REST-JSON service in botocore's model."""
    model = botocore.session.get_session().get_service_model(service)
    patterns = set()
    for name in model.operation_names:
        path = model.operation_model(name).http["requestUri"].split("?", 1)[0].rstrip("/")
        # moto turns named groups into URL rule variables (unnamed ones are not matched);
        # greedy labels ({Key+}) span slashes.
        path = re.sub(r"\{([^}/]+)\+\}", r"(?P<\1>.+)", path)
        path = re.sub(r"\{([^}/]+)\}", r"(?P<\1>[^/]+)", path)
        patterns.add("{0}" + path + "$")
    return sorted(patterns)


def add_rest_json_routes(
    url_paths: dict[str, Any], service: str, dispatch: Callable[..., Any]
) -> None:
    for pattern in rest_json_paths(service):
        url_paths.setdefault(pattern, dispatch)


def patch_athena() -> None:
    import moto.athena.urls
    from moto.athena.responses import AthenaResponse

    add_rest_json_routes(moto.athena.urls.url_paths, "athena", AthenaResponse.dispatch)


def main(argv: Sequence[str] | None = None) -> None:
    patch_athena()
    from moto.server import main as moto_main

    moto_main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
