"""``python -m glucosestream.local.moto_server -H 127.0.0.1 -p PORT``: moto's application (the
local stack's AWS APIs but Kinesis), with the routes it lacks for the AWS models botocore now
ships, served over keep-alive connections, and without a cost every request paid.

moto gap: moto (5.2) registers Athena under the single path of Athena's old JSON 1.1 protocol
(``POST /``), but it finds each request's operation through botocore's service model, whose
Athena is now REST-JSON (``GET /workgroups/{WorkGroup}``, ``POST /query-executions``, …). So every
Athena call 404s: neither a boto3 client nor the local Athena API could read or create a
workgroup. :func:`add_rest_json_routes` registers the model's own request paths with moto's
Athena responder, which then parses them as it would any REST-JSON service.

Per-request costs (py-spy of the server under the alerts consumer): moto routes each request
by listing its own package directory (``list_of_moto_modules``: ~150 ``stat`` calls) under the
lock that serialises routing — the list cannot change while the server runs, so it is listed
once (with werkzeug's request log, which waitress below does not write: 590 → 780
conditional PutItems/s on 8 threads). Likewise it lists the response class's methods with
``inspect.getmembers`` on every request to find the action's handler:
:func:`list_action_methods_once` (conditional PutItems/s on 8 threads, 5 paired stacks of 4
runs each: median 806 → 868).

SQS receives: for each message it hands out, moto checks the retention period through
``get_queue_attributes``, which computes every attribute of the queue, its three approximate
message counts among them: a pass over every message of the queue, with datetime arithmetic
for each, per message received. Under the alert storm that was a third of the server's CPU
(py-spy ``--gil``). :func:`check_retention_directly` reads the period from the queue: the same
test, without the counts. SQS sends (every alert SNS delivers, to each queue subscribed) do the
same to read one setting, ContentBasedDeduplication: a send cost a pass over the queue, so a
queue nobody drains made every publish slower (200 publishes on 8 threads: 0.74 s into empty
queues, 2.1 s at 400 messages each, 6.8 s at 1,200). :func:`read_deduplication_directly`
answers moto's reads of that setting during a send from the queue itself.

Connections: moto's own ``moto_server`` runs werkzeug's development server, which answers every
request with ``Connection: close`` (by design: Python's ``http.server`` cannot drain a request
body before the next request line), so each AWS call paid a TCP connection and a server thread
of its own. The same moto application is served here by waitress, a production WSGI server
with HTTP/1.1 keep-alive (botocore keeps its connections): conditional PutItems 665-773 →
790-888 a second on 8 threads, the alerts consumer bench 5,240 → 5,735 readings/s, the alerts
latency p99 2.43 → 2.21 s (same machine, paired runs). Waitress runs requests on a fixed
pool of :data:`THREADS`: an SQS long poll holds one for up to 20 s, so the pool is many times
the stack's long pollers. One difference from werkzeug: waitress drops request headers whose
names contain an underscore (werkzeug drops them too, moto's handler put back
``x-amz-meta-*`` ones: S3 user metadata keys with an underscore are not stored here; the
project sets no S3 metadata).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import botocore.session

THREADS = 32
"""Requests served at once (waitress's worker threads)."""


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


def list_service_modules_once() -> None:
    import moto.backends

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules


def list_action_methods_once() -> None:
    """moto finds each request's handler among its response class's methods, listed anew with
    ``inspect.getmembers`` for every request; a class's methods do not change while the server
    runs, so each class is listed once."""
    from moto.core import responses, utils

    listed_once = functools.cache(utils.method_names_from_class)
    responses.method_names_from_class = listed_once  # type: ignore[attr-defined]


def check_retention_directly() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import Message, SQSBackend

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Message
    ) -> bool:
        # Queue sets its attributes by name (setattr): an int, as moto reads it.
        retention_s: int = vars(self.get_queue(queue_name))["message_retention_period"]
        return retention_s + (message.sent_timestamp or 0) / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


def read_deduplication_directly() -> None:
    from moto.sqs.models import Queue, SQSBackend

    every_attribute: Callable[[Queue], dict[str, Any]] = vars(Queue)["attributes"].fget
    sending = threading.local()

    def attributes(self: Queue) -> dict[str, Any]:
        if not getattr(sending, "active", False):
            return every_attribute(self)
        # While sending, moto reads only ContentBasedDeduplication (send_message,
        # _validate_message, add_message): a FIFO attribute, stored as a bool, shown lowercase.
        if not self.fifo_queue:
            return {}
        deduplicates: bool = vars(self)["content_based_deduplication"]
        return {"ContentBasedDeduplication": str(deduplicates).lower()}

    send_message = SQSBackend.send_message

    @functools.wraps(send_message)
    def send_reading_deduplication_directly(self: SQSBackend, *args: Any, **kwargs: Any) -> Any:
        sending.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            sending.active = False

    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = send_reading_deduplication_directly  # type: ignore[method-assign]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto's AWS APIs over HTTP/1.1 keep-alive")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    patch_athena()
    list_service_modules_once()
    list_action_methods_once()
    check_retention_directly()
    read_deduplication_directly()
    import waitress
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    waitress.serve(app, host=args.host, port=args.port, threads=THREADS, ident="moto")


if __name__ == "__main__":
    main()
