"""Ingest API: REST (``/v1/readings``) and Nightscout-compatible (``/api/v1/...``) → Kinesis;
patients' alert settings (``/v1/alert-settings``) and acknowledgements
(``/v1/alerts/{alert_id}/ack``) → the alert state table.

Deployed as a Lambda behind API Gateway (REST API, proxy integration); served locally by
:mod:`glucosestream.local.apigateway`, which turns HTTP requests into the same proxy events and
calls
:func:`handler`. Routes are thin: each reads headers and body, calls
:class:`~glucosestream.ingest.api.service.IngestService` and renders its answer.

The OpenAPI document is generated from the routes and the pydantic models
(``GET /openapi.json``). ``POST /v1/readings`` declares its body through ``openapi_extensions``
rather than a typed parameter on purpose: the resolver's validation would refuse the whole array
for one bad item, while the contract is per-item acceptance with index and reason.

Logs carry counts and tenants only: never glucose values or source patient ids.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from glucosestream.adapters.athena import AthenaQueryEngine
from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import stream_named
from glucosestream.adapters.nightscout_documents import NightscoutDocuments
from glucosestream.adapters.patient_state import PatientStateStore
from glucosestream.adapters.producer import ContractEvent, Producer, PublishError
from glucosestream.alerts.patient_controls import PatientAlertControls
from glucosestream.contract.codec import ERASURE_SCHEMA, READING_SCHEMA, TREATMENT_SCHEMA
from glucosestream.ingest.api.config import IngestSettings, load_ingest_settings
from glucosestream.ingest.api.nightscout_auth import Credentials
from glucosestream.ingest.api.nightscout_profile import PROFILES_DEFAULT_COUNT, NightscoutProfiles
from glucosestream.ingest.api.nightscout_v3 import NightscoutV3
from glucosestream.ingest.api.ratelimit import RateLimiter
from glucosestream.ingest.api.readings import ReadingIn
from glucosestream.ingest.api.schemas import (
    AckIn,
    AckOut,
    AlertSettingsChange,
    AlertSettingsOut,
    Problem,
    ReadingsAccepted,
)
from glucosestream.ingest.api.service import Answer, IngestService, Limits, StreamUnavailable
from glucosestream.ingest.lake_entries import LakeEntries
from glucosestream.ingest.nightscout import EntryIn, EntryOut
from glucosestream.settings import Settings, load_settings
from glucosestream.warehouse.query_engine import QueryEngine

# The service name is passed, not set in the environment: Powertools names the logger after
# it, and a process that imports several handlers (tests, the local runtime) must keep them apart.
logger = Logger(service="ingest-api")

API_VERSION = "1.0.0"
API_KEY_HEADER = "x-api-key"
"""API Gateway's own API-key header: usage plans throttle on it before the Lambda runs."""
SECRET_HEADER = "api-secret"  # noqa: S105 - a header name, not a secret


def kinesis_publisher(producer: Producer) -> Callable[[list[Any]], None]:
    """The producer as the service's publisher: PublishError becomes StreamUnavailable."""

    def publish(events: list[ContractEvent]) -> None:
        try:
            producer.publish(events)
        except PublishError as error:
            raise StreamUnavailable(str(error), error.report.sent) from error

    return publish


def build_service(settings: Settings, ingest: IngestSettings) -> IngestService:
    """The composition root: the only place the real adapters are chosen.

    Raises AuthConfigError for a bad key document or a Nightscout secret under 12 characters,
    so a misconfigured API refuses to start rather than to authenticate.
    """

    def publisher(stream: str, schema: str = READING_SCHEMA) -> Callable[[list[Any]], None]:
        producer = Producer(
            stream_named(settings, stream), give_up_after_s=ingest.publish_timeout_s, schema=schema
        )
        return kinesis_publisher(producer)

    names = settings.names
    return IngestService(
        keys=ingest.api_key_registry(settings),
        nightscout_secret=ingest.nightscout(settings),
        publish=publisher(names.readings_stream),
        documents=NightscoutDocuments(
            aws_client("dynamodb", settings), settings.names.nightscout_table, ingest.recent_days
        ),
        limiter=RateLimiter(ingest.rate_per_s, ingest.burst),
        pseudonym_key=settings.pseudonym_key_bytes,
        limits=Limits(
            ingest.max_body_bytes, ingest.max_items, ingest.recent_per_patient, ingest.recent_days
        ),
        nightscout_tokens=ingest.nightscout_token_roles(),
        alert_controls=PatientAlertControls(
            PatientStateStore(aws_client("dynamodb", settings), settings.names.patient_state_table)
        ),
        entry_archive=LakeEntries(lake_query_engine(settings)),
        publish_treatments=publisher(names.treatments_stream, TREATMENT_SCHEMA),
        publish_erasures=publisher(names.erasures_stream, ERASURE_SCHEMA),
    )


LAKE_READ_TIMEOUT_S = 20.0
"""An older-entries read gives up before API Gateway's 29-second integration timeout."""


def lake_query_engine(settings: Settings) -> Callable[[], QueryEngine]:
    """The lake's query engine for older entries: Athena in aws mode; in local mode DuckDB over
    the local lake, made for each read (it binds the partitions the pipeline last published)."""
    if settings.mode == "local":
        from glucosestream.local.lake import LocalQueryEngine

        return lambda: LocalQueryEngine(settings)
    athena = AthenaQueryEngine(
        aws_client("athena", settings),
        database=settings.names.glue_database,
        workgroup=settings.names.athena_workgroup,
        timeout_s=LAKE_READ_TIMEOUT_S,
    )
    return lambda: athena


def allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods of the routes whose rule matches ``path`` (sorted; none: no such path).

    The resolver keeps its routes as compiled rules, which it matches the same way."""
    routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
    return sorted({route.method for route in routes if route.rule.match(path)})


def problem(description: str) -> OpenAPIResponse:
    """An OpenAPI response entry with the Problem body."""
    return {"description": description, "content": {"application/json": {"model": Problem}}}


def _array_of(model: type[Any]) -> dict[str, Any]:
    return {"type": "array", "items": model.model_json_schema()}


def create_app(service: Callable[[], IngestService]) -> APIGatewayRestResolver:
    """The resolver with every route; ``service`` is called per request (built once by it)."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.configure_openapi(
        title="GlucoseStream ingest API",
        version=API_VERSION,
        description="Readings in GlucoseStream's shape, and the Nightscout entries API.",
        security_schemes={
            "apiKey": APIKey.model_validate({"in": "header", "name": API_KEY_HEADER}),
            "nightscoutSecret": APIKey.model_validate({"in": "header", "name": SECRET_HEADER}),
        },
    )

    def header(name: str) -> str | None:
        value = app.current_event.headers.get(name)  # case-insensitive in Powertools v3
        return str(value) if value is not None else None

    def body() -> bytes:
        raw = app.current_event.body or ""
        if app.current_event.is_base64_encoded:
            try:
                return base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                return b"\x00not base64"  # the service answers 400: not JSON
        return raw.encode()

    def render(answer: Answer, route: str) -> Response[Any]:
        if answer.status >= 400:
            logger.info(
                "request refused",
                extra={"route": route, "status": answer.status, "reason": answer.body["message"]},
            )
        return Response(
            status_code=answer.status,
            content_type="application/json",
            body=json.dumps(answer.body, separators=(",", ":")),
            headers=answer.headers,
        )

    def invalid_request(error: RequestValidationError) -> Response[Any]:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', e.get('type'))}"
            for e in error.errors()
        )
        return render(Answer(422, {"status": 422, "message": reasons}), "validation")

    app.exception_handler(RequestValidationError)(invalid_request)

    def no_route(_: NotFoundError) -> Response[Any]:
        """404 for an unknown path; 405 with ``Allow`` for a known path under another method.
        Either in the API's error shape (``status``, ``message``), not the resolver's."""
        path = app.current_event.path
        allowed = allowed_methods(app, path)
        if not allowed:
            return render(Answer(404, {"status": 404, "message": f"no route {path}"}), "no route")
        method = app.current_event.http_method.upper()
        answer = Answer(
            405,
            {
                "status": 405,
                "message": f"{method} is not allowed on {path}: use {', '.join(allowed)}",
            },
            {"Allow": ", ".join(allowed)},
        )
        return render(answer, "wrong method")

    app.not_found(no_route)

    readings_body = {
        "required": True,
        "content": {"application/json": {"schema": _array_of(ReadingIn)}},
    }
    entries_body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_array_of(EntryIn), EntryIn.model_json_schema()]}
            }
        },
    }
    common: dict[int, OpenAPIResponse] = {
        400: problem("The body is not a JSON array of objects."),
        401: problem("Missing or wrong credentials."),
        413: problem("Body or item count over the limit."),
        429: problem("Rate limit exceeded; see Retry-After."),
        503: problem("Kinesis unavailable; see Retry-After. Says how many readings got through."),
    }

    @app.post(
        "/v1/readings",
        summary="Ingest readings (GlucoseStream's shape)",
        security=[{"apiKey": []}],
        openapi_extensions={"requestBody": readings_body},
        responses={
            202: {
                "description": "Accepted items are on the stream; rejected ones listed.",
                "content": {"application/json": {"model": ReadingsAccepted}},
            },
            **common,
            403: problem("Every item names a patient of another tenant."),
            422: problem("No item was valid; each rejection has its index and reason."),
        },
    )
    def post_readings() -> Response[Any]:
        answer = service().post_readings(header(API_KEY_HEADER), body())
        if answer.status == 202:
            logger.info(
                "readings ingested",
                extra={
                    "accepted": answer.body["accepted"],
                    "rejected": len(answer.body["rejected"]),
                },
            )
        return render(answer, "/v1/readings")

    def post_entries() -> Response[Any]:
        return render(service().post_entries(credentials(), body()), "/api/v1/entries")

    entries_responses: dict[int, OpenAPIResponse] = {
        200: {
            "description": "The accepted entries (Nightscout's answer); rejected ones, if any, "
            "in the X-Rejected header.",
            "content": {"application/json": {"model": list[EntryOut]}},
        },
        **common,
    }
    for path in ("/api/v1/entries", "/api/v1/entries.json"):
        app.post(
            path,
            summary="Nightscout: upload entries",
            security=[{"nightscoutSecret": []}],
            openapi_extensions={"requestBody": entries_body},
            responses=entries_responses,
        )(post_entries)

    def credentials() -> Credentials:
        """Every way a Nightscout client proves who it is (nightscout_auth says which wins)."""
        parameters = app.current_event.query_string_parameters or {}
        return Credentials(
            api_secret=header(SECRET_HEADER),
            secret_parameter=parameters.get("secret"),
            token=parameters.get("token"),
            authorization=header("authorization"),
        )

    def query() -> dict[str, list[str]]:
        """Every query parameter with all its values (``find[type][$in][]`` may repeat)."""
        event = app.current_event
        single = event.query_string_parameters or {}
        multi = event.multi_value_query_string_parameters or {}
        return {key: list(multi.get(key) or [value]) for key, value in single.items()}

    def get_entries(
        count: Annotated[int, Query(ge=1, description="Newest entries to return.")] = 10,
    ) -> Response[Any]:
        sgv_only = "/entries/sgv" in app.current_event.path
        answer = service().get_entries(
            credentials(), count, query(), entry_type="sgv" if sgv_only else None
        )
        return render(answer, "GET entries")

    def get_current() -> Response[Any]:
        # As Nightscout's /entries/current: the newest sensor entry, never a meter value.
        answer = service().get_entries(credentials(), 1, query(), entry_type="sgv")
        return render(answer, "GET current")

    entries_answers: dict[int, OpenAPIResponse] = {
        200: {
            "description": "Newest first.",
            "content": {"application/json": {"model": list[EntryOut]}},
        },
        400: problem("count out of range, or a find Nightscout does not know."),
        401: problem("Missing or wrong api-secret."),
        429: problem("Rate limit exceeded."),
    }
    for path in (
        "/api/v1/entries",
        "/api/v1/entries.json",
        "/api/v1/entries/sgv",
        "/api/v1/entries/sgv.json",
    ):
        app.get(
            path,
            summary="Nightscout: newest entries",
            description="find[date|dateString|sgv|type|device|direction][$eq|$ne|$gt|$gte|$lt|"
            "$lte|$in|$nin]=value, as Nightscout reads it (date and sgv as integers; without a "
            "date constraint, the last 4 days).",
            security=[{"nightscoutSecret": []}],
            responses=entries_answers,
        )(get_entries)
    for path in ("/api/v1/entries/current", "/api/v1/entries/current.json"):
        app.get(
            path,
            summary="Nightscout: the newest sensor (sgv) entry",
            security=[{"nightscoutSecret": []}],
            responses=entries_answers,
        )(get_current)

    @app.get(
        "/api/v1/entries/<spec>",
        summary="Nightscout: entries of a type (mbg, cal), or one entry by _id",
        description="As Nightscout's /entries/:spec: a type filters the newest entries; "
        "anything else is an _id, answered as a list of that entry, or [] (kept entries only: "
        "the read path's window).",
        security=[{"nightscoutSecret": []}],
        responses=entries_answers,
    )
    def get_entry(
        spec: str,
        count: Annotated[int, Query(ge=1, description="Newest entries (for a type).")] = 10,
    ) -> Response[Any]:
        spec = spec.removesuffix(".json")
        return render(service().get_entry(credentials(), spec, count, query()), "GET entry")

    deleted_answers: dict[int, OpenAPIResponse] = {
        200: {"description": '{"n": entries deleted, "ok": 1}.'},
        400: problem("No find condition or id (it would delete every entry), or a bad find."),
        401: problem("Missing or wrong credentials."),
        403: problem("Not an admin (api-secret or a token with the admin role)."),
        503: problem("The erasures stream or the lake did not answer; nothing was deleted."),
    }

    def delete_entries() -> Response[Any]:
        return render(service().delete_entries(credentials(), query()), "DELETE entries")

    for path in ("/api/v1/entries", "/api/v1/entries.json"):
        app.delete(
            path,
            summary="Nightscout: delete the entries a find matches (admin)",
            description="Up to the count limit per call, newest first; the readings leave the "
            "read path now and the lake's curated readings and metrics at the pipeline's next "
            "run (an erasure on the erasures stream). A find is required.",
            security=[{"nightscoutSecret": []}],
            responses=deleted_answers,
        )(delete_entries)

    @app.delete(
        "/api/v1/entries/<spec>",
        summary="Nightscout: delete one entry by _id, or the entries of a type a find matches",
        security=[{"nightscoutSecret": []}],
        responses=deleted_answers,
    )
    def delete_entry(spec: str) -> Response[Any]:
        spec = spec.removesuffix(".json")
        answer = service().delete_entries(credentials(), query(), spec)
        return render(answer, "DELETE entry")

    documents_body = {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [{"type": "array"}, {"type": "object"}]}}
        },
    }

    def collection_routes(collection: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
        # A closure per collection: a default argument would become a query parameter.
        def post_collection() -> Response[Any]:
            answer = service().post_documents(credentials(), collection, body())
            return render(answer, f"POST {collection}")

        def get_collection(
            count: Annotated[int, Query(ge=1, description="Newest documents to return.")] = 10,
        ) -> Response[Any]:
            answer = service().get_documents(credentials(), collection, count, query())
            return render(answer, f"GET {collection}")

        return post_collection, get_collection

    def put_treatments() -> Response[Any]:
        answer = service().post_documents(credentials(), "treatments", body(), upsert=True)
        return render(answer, "PUT treatments")

    for path in ("/api/v1/treatments", "/api/v1/treatments.json"):
        app.put(
            path,
            summary="Nightscout: upsert treatments (xDrip+ sends each treatment so)",
            description="As POST, but a document replaces the stored one with the same _id, "
            "even when its created_at changed.",
            security=[{"nightscoutSecret": []}],
            openapi_extensions={"requestBody": documents_body},
            responses={200: {"description": "The stored documents."}, **common},
        )(put_treatments)

    @app.delete(
        "/api/v1/treatments/<identifier>",
        summary="Nightscout: delete a treatment by _id (admin)",
        security=[{"nightscoutSecret": []}],
        responses={200: {"description": '{"n": 1} when deleted, {"n": 0} when not there.'}},
    )
    def delete_treatment(identifier: str) -> Response[Any]:
        answer = service().delete_treatment(credentials(), identifier)
        return render(answer, "DELETE treatment")

    for collection in ("treatments", "devicestatus"):
        post_collection, get_collection = collection_routes(collection)
        for path in (f"/api/v1/{collection}", f"/api/v1/{collection}.json"):
            app.post(
                path,
                summary=f"Nightscout: upload {collection}",
                security=[{"nightscoutSecret": []}],
                openapi_extensions={"requestBody": documents_body},
                responses={200: {"description": "The stored documents."}, **common},
            )(post_collection)
            app.get(
                path,
                summary=f"Nightscout: newest {collection}",
                description="find[created_at][$gte]=ISO and the other find operators; without "
                "a date constraint, the last 4 days.",
                security=[{"nightscoutSecret": []}],
                responses=entries_answers,
            )(get_collection)

    # -- Nightscout profiles and foods (glucosestream/ingest/api/nightscout_profile.py) ---------

    def kept() -> NightscoutProfiles:
        return NightscoutProfiles(service())

    kept_written: dict[int, OpenAPIResponse] = {
        200: {"description": "The stored documents; refused ones, if any, in X-Rejected."},
        **common,
        403: problem("Not an admin (api-secret or a token with the admin role)."),
    }
    kept_read: dict[int, OpenAPIResponse] = {
        200: {"description": "The stored documents."},
        400: problem("count out of range, or a find Nightscout does not know."),
        401: problem("Missing or wrong credentials."),
        403: problem("A token without the readable role."),
        429: problem("Rate limit exceeded."),
    }
    kept_deleted: dict[int, OpenAPIResponse] = {
        200: {"description": '{"n": 1, "ok": 1} when deleted, {"n": 0, ...} when not there.'},
        401: problem("Missing or wrong credentials."),
        403: problem("Not an admin (api-secret or a token with the admin role)."),
    }

    def get_profiles(
        count: Annotated[
            int, Query(ge=1, description="Newest profiles to return.")
        ] = PROFILES_DEFAULT_COUNT,
    ) -> Response[Any]:
        return render(kept().list(credentials(), "profile", count, query()), "GET profile")

    def get_current_profile() -> Response[Any]:
        return render(kept().current(credentials()), "GET profile current")

    def get_foods() -> Response[Any]:
        return render(kept().list(credentials(), "food", None, query()), "GET food")

    def get_quickpicks() -> Response[Any]:
        return render(kept().quickpicks(credentials(), regular=False), "GET food quickpicks")

    def get_regular_foods() -> Response[Any]:
        return render(kept().quickpicks(credentials(), regular=True), "GET food regular")

    def kept_writes(collection: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
        def post_kept() -> Response[Any]:
            return render(kept().store(credentials(), collection, body()), f"POST {collection}")

        def put_kept() -> Response[Any]:
            answer = kept().store(credentials(), collection, body(), replace=True)
            return render(answer, f"PUT {collection}")

        return post_kept, put_kept

    for collection, what in (("profile", "profiles"), ("food", "foods")):
        post_kept, put_kept = kept_writes(collection)
        for path in (f"/api/v1/{collection}", f"/api/v1/{collection}.json"):
            app.post(
                path,
                summary=f"Nightscout: store {what} (admin)",
                description="One document or an array; each replaces the stored one with its "
                "_id. A profile needs a store object of named profiles.",
                security=[{"nightscoutSecret": []}],
                openapi_extensions={"requestBody": documents_body},
                responses=kept_written,
            )(post_kept)
            app.put(
                path,
                summary=f"Nightscout: replace {what} by _id (admin)",
                security=[{"nightscoutSecret": []}],
                openapi_extensions={"requestBody": documents_body},
                responses=kept_written,
            )(put_kept)
    for path in ("/api/v1/profile", "/api/v1/profile.json"):
        app.get(
            path,
            summary="Nightscout: newest profiles (10 by default)",
            description="Newest first; find[created_at|startDate|defaultProfile|...] filters, "
            "with no default date window.",
            security=[{"nightscoutSecret": []}],
            responses=kept_read,
        )(get_profiles)
    for path in ("/api/v1/profile/current", "/api/v1/profile/current.json"):
        app.get(
            path,
            summary="Nightscout: the newest profile document (null when none)",
            security=[{"nightscoutSecret": []}],
            responses=kept_read,
        )(get_current_profile)
    for path in ("/api/v1/food", "/api/v1/food.json"):
        app.get(
            path,
            summary="Nightscout: every food and quick pick",
            security=[{"nightscoutSecret": []}],
            responses=kept_read,
        )(get_foods)
    for path in ("/api/v1/food/quickpicks", "/api/v1/food/quickpicks.json"):
        app.get(
            path,
            summary="Nightscout: visible quick picks, by position",
            security=[{"nightscoutSecret": []}],
            responses=kept_read,
        )(get_quickpicks)
    for path in ("/api/v1/food/regular", "/api/v1/food/regular.json"):
        app.get(
            path,
            summary="Nightscout: foods (type food)",
            security=[{"nightscoutSecret": []}],
            responses=kept_read,
        )(get_regular_foods)

    @app.delete(
        "/api/v1/profile/<identifier>",
        summary="Nightscout: delete a profile by _id (admin)",
        security=[{"nightscoutSecret": []}],
        responses=kept_deleted,
    )
    def delete_profile(identifier: str) -> Response[Any]:
        answer = kept().delete(credentials(), "profile", identifier)
        return render(answer, "DELETE profile")

    @app.delete(
        "/api/v1/food/<identifier>",
        summary="Nightscout: delete a food by _id (admin)",
        security=[{"nightscoutSecret": []}],
        responses=kept_deleted,
    )
    def delete_food(identifier: str) -> Response[Any]:
        return render(kept().delete(credentials(), "food", identifier), "DELETE food")

    def status() -> Response[Any]:
        return render(service().status(), "status")

    for path in ("/api/v1/status.json", "/api/v1/status"):
        app.get(path, summary="Nightscout: server status")(status)

    @app.get(
        "/api/v1/verifyauth",
        summary="Nightscout: check the api-secret (200 UNAUTHORIZED when it proves nothing)",
        security=[{"nightscoutSecret": []}],
    )
    def verify_auth() -> Response[Any]:
        return render(service().verify_auth(credentials()), "verifyauth")

    settings_body = {
        "required": True,
        "content": {"application/json": {"schema": AlertSettingsChange.model_json_schema()}},
    }
    settings_answer: OpenAPIResponse = {
        "description": "The patient's alert settings now.",
        "content": {"application/json": {"model": AlertSettingsOut}},
    }
    controls_refusals: dict[int, OpenAPIResponse] = {
        400: problem("patient_id missing, or a value out of its allowed range (named)."),
        401: problem("Missing or wrong API key."),
        403: problem("The key's tenant does not write this patient."),
        429: problem("Rate limit exceeded; see Retry-After."),
        503: problem("The state table is busy; retry (nothing changed)."),
    }

    @app.get(
        "/v1/alert-settings",
        summary="A patient's alert settings",
        security=[{"apiKey": []}],
        responses={200: settings_answer, **controls_refusals},
    )
    def get_alert_settings(
        patient_id: Annotated[str | None, Query(description="Source patient id.")] = None,
    ) -> Response[Any]:
        answer = service().get_alert_settings(header(API_KEY_HEADER), patient_id)
        return render(answer, "GET /v1/alert-settings")

    @app.patch(
        "/v1/alert-settings",
        summary="Change a patient's alert settings (from the next reading)",
        description="Fields not sent keep their values. Low 60-100 mg/dL, high 120-400 mg/dL, "
        'high_alerts true/false, quiet_hours "HH:MM-HH:MM" (patient\'s local time) or "off". '
        "An out-of-range value refuses the whole change.",
        security=[{"apiKey": []}],
        openapi_extensions={"requestBody": settings_body},
        responses={200: settings_answer, **controls_refusals},
    )
    def patch_alert_settings(
        patient_id: Annotated[str | None, Query(description="Source patient id.")] = None,
    ) -> Response[Any]:
        answer = service().patch_alert_settings(header(API_KEY_HEADER), patient_id, body())
        return render(answer, "PATCH /v1/alert-settings")

    @app.post(
        "/v1/alerts/<alert_id>/ack",
        summary="Acknowledge an alert (stops an urgent low's repeats)",
        security=[{"apiKey": []}],
        openapi_extensions={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": AckIn.model_json_schema()}},
            }
        },
        responses={
            200: {
                "description": "Acknowledged (or already acknowledged: the first is kept).",
                "content": {"application/json": {"model": AckOut}},
            },
            404: problem("No such alert for this patient."),
            **controls_refusals,
        },
    )
    def acknowledge_alert(alert_id: str) -> Response[Any]:
        answer = service().acknowledge_alert(header(API_KEY_HEADER), alert_id, body())
        return render(answer, "POST /v1/alerts/{alert_id}/ack")

    # -- Nightscout API v3 (glucosestream/ingest/api/nightscout_v3.py) ----------------------------

    def v3() -> NightscoutV3:
        return NightscoutV3(service())

    @app.get("/api/v3/version", summary="Nightscout v3: version (public)")
    def v3_version() -> Response[Any]:
        return render(v3().version(), "v3 version")

    @app.get("/api/v3/status", summary="Nightscout v3: status and the caller's permissions")
    def v3_status() -> Response[Any]:
        return render(v3().status(credentials()), "v3 status")

    @app.get("/api/v3/lastModified", summary="Nightscout v3: newest srvModified per collection")
    def v3_last_modified() -> Response[Any]:
        return render(v3().last_modified(credentials()), "v3 lastModified")

    @app.get(
        "/api/v3/<collection>/history/<since>",
        summary="Nightscout v3: every version stored after <since> (epoch ms), oldest first",
    )
    def v3_history(
        collection: str,
        since: str,
        limit: Annotated[int | None, Query(description="At most this many (<= 1000).")] = None,
    ) -> Response[Any]:
        return render(v3().history(credentials(), collection, since, limit), "v3 history")

    @app.get("/api/v3/<collection>/<identifier>", summary="Nightscout v3: one document")
    def v3_read(collection: str, identifier: str) -> Response[Any]:
        return render(v3().read(credentials(), collection, identifier), "v3 read")

    @app.get(
        "/api/v3/<collection>",
        summary="Nightscout v3: search",
        description="field$op=value filters (eq ne gt gte lt lte in nin), limit, "
        "sort=date or sort$desc=date.",
    )
    def v3_search(collection: str) -> Response[Any]:
        return render(v3().search(credentials(), collection, query()), "v3 search")

    @app.post("/api/v3/<collection>", summary="Nightscout v3: create one document")
    def v3_create(collection: str) -> Response[Any]:
        return render(v3().create(credentials(), collection, body()), "v3 create")

    @app.patch(
        "/api/v3/<collection>/<identifier>",
        summary="Nightscout v3: change fields of a treatment (admin)",
    )
    def v3_patch(collection: str, identifier: str) -> Response[Any]:
        answer = v3().patch(credentials(), collection, identifier, body())
        return render(answer, "v3 patch")

    @app.delete(
        "/api/v3/<collection>/<identifier>",
        summary="Nightscout v3: delete a treatment (admin; history shows it isValid: false)",
    )
    def v3_delete(collection: str, identifier: str) -> Response[Any]:
        return render(v3().delete(credentials(), collection, identifier), "v3 delete")

    @app.get(
        "/api/v2/authorization/request/<token>",
        summary="Nightscout: a JWT for an access token",
        responses={401: problem("Unknown, revoked or malformed token.")},
    )
    def request_jwt(token: str) -> Response[Any]:
        return render(service().request_jwt(token), "authorization request")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[Any]:
        return Response(200, "application/json", app.get_openapi_json_schema())

    return app


@cache
def _service() -> IngestService:
    return build_service(load_settings(), load_ingest_settings())


app = create_app(_service)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (API Gateway REST proxy event in, proxy response out)."""
    return app.resolve(event, context)


lambda_handler = handler
