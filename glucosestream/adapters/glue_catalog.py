"""Glue adapter: the table-catalog port (:mod:`glucosestream.warehouse.table_catalog`) on the Glue
Data Catalog, for lake tables whose partitions are registered (no partition projection).

Atomic publish on S3 without renames (docs/adr/0004-atomic-publish.md). Every rebuild attempt
writes under a new **version prefix** of its own, visible, under the table's location::

    s3://<lake>/<table prefix>version=<run>-<chunk>-<created UTC>-<attempt token>/<key>=<value>/…

and :meth:`GlueTableCatalog.publish` then points each partition's Glue location at its new
``…/<key>=<value>/`` prefix (``BatchCreatePartition`` for new partitions,
``BatchUpdatePartition`` for existing ones, ``BatchDeletePartition`` for partitions the rebuild
left empty). A Glue partition update is atomic, so a reader (Athena resolves the locations when
it plans a query) reads a partition's old version or its new one, complete: the files were all
written before the first Glue call. Nothing is renamed, overwritten or deleted by a publish; the
superseded versions are deleted later by :meth:`GlueTableCatalog.vacuum`, once no reader can
still be reading them.

The boto3 Glue client is injected (built by :func:`glucosestream.adapters.clients.aws_client`);
the lake storage lists what was staged and deletes what is vacuumed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from glucosestream.lake.storage import LakeStorage, visible_to_queries
from glucosestream.warehouse.table_catalog import PartitionValues

CREATE_BATCH = 100
"""BatchCreatePartition takes at most 100 partitions per request."""
UPDATE_BATCH = 100
"""BatchUpdatePartition takes at most 100 entries per request."""
DELETE_BATCH = 25
"""BatchDeletePartition takes at most 25 partitions per request."""
GET_BATCH = 1000
"""BatchGetPartition takes at most 1000 partitions per request."""
UNPROCESSED_ROUNDS = 5
"""BatchGetPartition may leave keys unprocessed (throttling): asked again this many times."""
DEFAULT_RETENTION = timedelta(hours=24)
"""How long a superseded version is kept after its partition last changed: longer than any run
(a run publishes what it staged within its Step Functions execution) plus any query reading the
previous version, and the window in which a partition can be rolled back by pointing it at its
previous location again."""

VERSION_KEY = "version"
_VERSION = re.compile(
    r"^version=(?P<run>[a-z0-9][a-z0-9_-]*)-(?P<chunk>\d{3,})"
    r"-(?P<created>\d{8}t\d{6}z)-(?P<attempt>[0-9a-f]{8})$"
)
_RUN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PARTITION_VALUE = re.compile(r"^[A-Za-z0-9_:.-]+$")
_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
_Item = TypeVar("_Item")


class CatalogAccessDenied(PermissionError):
    """Glue refused a call; the message names the database, the table and the action."""


class CatalogTableNotFound(LookupError):
    """The Glue database or table does not exist; the message names both."""


class CatalogPublishFailed(RuntimeError):
    """A batch call reported per-partition errors (the message names the first few)."""


# ------------------------------------------------------------------------------ versions


@dataclass(frozen=True, slots=True)
class Version:
    """A version prefix's name, ``version=<run>-<chunk>-<created>-<attempt>``."""

    run_id: str
    chunk: int
    created: datetime
    attempt: str

    @property
    def name(self) -> str:
        stamp = self.created.astimezone(UTC).strftime("%Y%m%dt%H%M%Sz")
        return f"{VERSION_KEY}={self.run_id}-{self.chunk:03d}-{stamp}-{self.attempt}"


def parse_version(name: str) -> Version | None:
    """The :class:`Version` a path component names, or None (not one of ours)."""
    found = _VERSION.match(name)
    if found is None:
        return None
    created = datetime.strptime(found["created"], "%Y%m%dt%H%M%Sz").replace(tzinfo=UTC)
    return Version(found["run"], int(found["chunk"]), created, found["attempt"])


def _hive_values(parts: Sequence[str], keys: Sequence[str]) -> PartitionValues | None:
    """The values of ``k1=v1/k2=v2`` path parts for these keys, in order, or None."""
    if len(parts) < len(keys):
        return None
    values = []
    for part, key in zip(parts, keys, strict=False):
        name, equals, value = part.partition("=")
        if name != key or not equals or not _PARTITION_VALUE.match(value):
            return None
        values.append(value)
    return tuple(values)


def _as_prefix(location: str) -> str:
    return location if location.endswith("/") else location + "/"


def _ancestors(uri: str) -> Iterator[str]:
    """``s3://b/a/b/c/`` → ``s3://b/a/b/c/``, ``s3://b/a/b/``, ``s3://b/a/`` (not the bucket)."""
    head = "s3://"
    parts = uri[len(head) :].rstrip("/").split("/")
    for end in range(len(parts), 1, -1):
        yield head + "/".join(parts[:end]) + "/"


# ------------------------------------------------------------------------------ the plan


@dataclass
class PublishChanges:
    """The Glue calls one publish needs (partitions already right are in none of them)."""

    create: list[tuple[PartitionValues, str]] = field(default_factory=list)
    update: list[tuple[PartitionValues, str]] = field(default_factory=list)
    delete: list[PartitionValues] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def publish_changes(
    wanted: Iterable[PartitionValues],
    staged: dict[PartitionValues, str],
    current: dict[PartitionValues, str],
) -> PublishChanges:
    """What makes each wanted partition its staged location (``staged``: values → location of
    the partitions with files), or drops it when nothing was staged for it; ``current`` is where
    the catalog points now. Pure: the same inputs give the same calls, and after a complete
    publish the same request gives none."""
    changes = PublishChanges()
    for values in sorted(set(wanted) | set(staged)):
        location = staged.get(values)
        now = current.get(values)
        if location is None:
            if now is not None:
                changes.delete.append(values)
        elif now is None:
            changes.create.append((values, location))
        elif now != location:
            changes.update.append((values, location))
    return changes


# ------------------------------------------------------------------------------ the adapter


@dataclass(frozen=True, slots=True)
class GlueTable:
    """What a publish needs of a Glue table."""

    name: str
    location: str
    """``s3://…/`` (the table's StorageDescriptor.Location, ending in ``/``)."""
    keys: tuple[str, ...]
    descriptor: dict[str, Any]
    """The table's StorageDescriptor without its Location: each partition's, but for that."""

    def partition_descriptor(self, location: str) -> dict[str, Any]:
        return {**self.descriptor, "Location": location}


def _batches(items: Sequence[_Item], size: int) -> Iterator[Sequence[_Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class GlueTableCatalog:
    """Partitions of the lake's Glue tables, published by pointing them at version prefixes.

    Parameters
    ----------
    client
        A boto3 Glue client.
    database
        The Glue database of the lake tables.
    storage
        The lake storage (the bucket the tables' locations are in): lists what a rebuild staged
        and deletes what :meth:`vacuum` removes.
    retention
        How long superseded versions are kept (see :data:`DEFAULT_RETENTION`).
    clock, attempt_token
        The time a version is named with and its random attempt token (injected by tests).
    """

    def __init__(
        self,
        client: Any,
        database: str,
        storage: LakeStorage,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        attempt_token: Callable[[], str] = lambda: secrets.token_hex(4),
        work_prefixes: Sequence[str] = (),
    ) -> None:
        """``work_prefixes``: key prefixes of transient work (e.g. the grid metrics' outputs of a
        run) whose files may be published as they lie, not from a version prefix: the pipeline
        drops those partitions and deletes the files itself, so vacuum never needs to."""
        self.client = client
        self.database = database
        self.storage = storage
        self.work_prefixes = tuple(storage.uri(prefix) for prefix in work_prefixes)
        self.retention = retention
        self.clock = clock
        self.attempt_token = attempt_token

    # --------------------------------------------------------------------------- errors

    def _failure(self, error: ClientError, table: str, action: str) -> Exception:
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        message = " ".join(str(details.get("Message", "")).split())
        where = f"{self.database}.{table}"
        if code in _DENIED:
            return CatalogAccessDenied(
                f"Glue refused glue:{action} on {where} ({code}): check the function's IAM role "
                f"({message})"
            )
        if code == "EntityNotFoundException":
            return CatalogTableNotFound(
                f"Glue has no table {where} (glue:{action}: {message}): apply the lake's Terraform"
            )
        return error

    def _call(self, table: str, action: str, **arguments: Any) -> dict[str, Any]:
        operation = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        try:
            response: dict[str, Any] = getattr(self.client, operation)(
                DatabaseName=self.database, **arguments
            )
        except ClientError as error:
            raise self._failure(error, table, action) from None
        return response

    # --------------------------------------------------------------------------- reading

    def _table(self, table: str) -> GlueTable:
        found = self._call(table, "GetTable", Name=table)["Table"]
        descriptor = dict(found.get("StorageDescriptor") or {})
        location = str(descriptor.pop("Location", "") or "")
        lake = self.storage.uri("")
        if not location.startswith(lake):
            raise ValueError(
                f"{self.database}.{table} is located at {location or 'nowhere'!r}, not in the "
                f"lake {lake}: its partitions cannot be published there"
            )
        keys = tuple(str(key["Name"]).lower() for key in found.get("PartitionKeys", []))
        if not keys:
            raise ValueError(f"{self.database}.{table} has no partition keys: nothing to publish")
        return GlueTable(table, _as_prefix(location), keys, descriptor)

    def _check_values(self, glue_table: GlueTable, values: Sequence[str]) -> PartitionValues:
        checked = tuple(str(value) for value in values)
        if len(checked) != len(glue_table.keys) or not all(
            _PARTITION_VALUE.match(value) for value in checked
        ):
            raise ValueError(
                f"{self.database}.{glue_table.name}: {list(checked)} are not values of the "
                f"partition keys {list(glue_table.keys)}"
            )
        return checked

    def _current(
        self, glue_table: GlueTable, wanted: Sequence[PartitionValues]
    ) -> dict[PartitionValues, dict[str, Any]]:
        """The existing partitions among ``wanted`` (values → Glue's partition)."""
        found: dict[PartitionValues, dict[str, Any]] = {}
        for batch in _batches(wanted, GET_BATCH):
            keys: list[dict[str, Any]] = [{"Values": list(values)} for values in batch]
            for _ in range(UNPROCESSED_ROUNDS):
                response = self._call(
                    glue_table.name,
                    "BatchGetPartition",
                    TableName=glue_table.name,
                    PartitionsToGet=keys,
                )
                for partition in response.get("Partitions", []):
                    found[tuple(partition["Values"])] = partition
                keys = list(response.get("UnprocessedKeys") or [])
                if not keys:
                    break
            else:
                raise CatalogPublishFailed(
                    f"{self.database}.{glue_table.name}: Glue left {len(keys)} partitions "
                    f"unprocessed {UNPROCESSED_ROUNDS} times (glue:BatchGetPartition)"
                )
        return found

    def _all_partitions(self, glue_table: GlueTable) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("get_partitions")
        try:
            for page in paginator.paginate(
                DatabaseName=self.database, TableName=glue_table.name, ExcludeColumnSchema=True
            ):
                yield from page.get("Partitions", [])
        except ClientError as error:
            raise self._failure(error, glue_table.name, "GetPartitions") from None

    def partition_locations(
        self, table: str, partitions: Sequence[PartitionValues]
    ) -> dict[PartitionValues, str]:
        glue_table = self._table(table)
        wanted = sorted({self._check_values(glue_table, values) for values in partitions})
        return {
            values: _as_prefix(partition["StorageDescriptor"]["Location"])
            for values, partition in self._current(glue_table, wanted).items()
        }

    # --------------------------------------------------------------------------- staging

    def staging_prefix(self, table: str, run_id: str, chunk: int) -> str:
        """A new version prefix under the table's location, unique to this attempt: a retried
        step gets another one, so emptying it can never touch a version already published."""
        if not _RUN_TOKEN.match(run_id) or chunk < 0:
            raise ValueError(f"{run_id!r}/{chunk} cannot name a version prefix")
        glue_table = self._table(table)
        attempt = self.attempt_token()
        if not re.fullmatch(r"[0-9a-f]{8}", attempt):
            raise ValueError(f"an attempt token is 8 hex digits, got {attempt!r}")
        version = Version(run_id, chunk, self.clock(), attempt)
        return f"{glue_table.location}{version.name}/"

    def _staged(self, glue_table: GlueTable, staged: str) -> dict[PartitionValues, str]:
        """The partitions with files under ``staged`` (values → their location)."""
        version = staged[len(glue_table.location) :].rstrip("/")
        is_work = staged.startswith(self.work_prefixes) and staged.endswith("/")
        if not is_work and (
            not staged.startswith(glue_table.location)
            or not staged.endswith("/")
            or "/" in version
            or parse_version(version) is None
        ):
            raise ValueError(
                f"{staged!r} is not a version prefix of {self.database}.{glue_table.name} "
                f"({glue_table.location}{VERSION_KEY}=…/): name it with staging_prefix()"
            )
        key = staged[len(self.storage.uri("")) :]
        found: dict[PartitionValues, str] = {}
        for stored in self.storage.list(key):
            parts = stored.key[len(key) :].split("/")
            if not visible_to_queries(parts, stored.size):
                continue
            values = _hive_values(parts[:-1], glue_table.keys)
            if values is None or len(parts) != len(glue_table.keys) + 1:
                raise ValueError(
                    f"{self.storage.uri(stored.key)} is not a file of a "
                    f"{'/'.join(f'{k}=…' for k in glue_table.keys)}/ partition of "
                    f"{self.database}.{glue_table.name}"
                )
            found[values] = staged + "".join(
                f"{k}={v}/" for k, v in zip(glue_table.keys, values, strict=True)
            )
        return found

    # --------------------------------------------------------------------------- publish

    def publish(self, table: str, staged: str, partitions: Sequence[PartitionValues]) -> None:
        """Point each partition at its files under ``staged`` (created, updated, or dropped when
        none were staged), at most 100 partitions per Glue call. Atomic per partition: a publish
        stopped between two calls leaves each partition on its old or its new version, and
        running it again completes it (partitions already right are not touched)."""
        glue_table = self._table(table)
        located = self._staged(glue_table, staged)
        wanted = sorted({self._check_values(glue_table, values) for values in partitions})
        existing = self._current(glue_table, sorted(set(wanted) | set(located)))
        changes = publish_changes(
            wanted,
            located,
            {
                values: _as_prefix(partition["StorageDescriptor"]["Location"])
                for values, partition in existing.items()
            },
        )
        self._create(glue_table, changes.create, existing)
        self._update(glue_table, changes.update, existing)
        self._delete(glue_table, changes.delete)

    def _partition_input(
        self, glue_table: GlueTable, values: PartitionValues, location: str, old: dict[str, Any]
    ) -> dict[str, Any]:
        partition: dict[str, Any] = {
            "Values": list(values),
            "StorageDescriptor": glue_table.partition_descriptor(location),
        }
        if old.get("Parameters"):
            partition["Parameters"] = old["Parameters"]
        return partition

    def _create(
        self,
        glue_table: GlueTable,
        creates: Sequence[tuple[PartitionValues, str]],
        existing: dict[PartitionValues, dict[str, Any]],
    ) -> None:
        raced: list[tuple[PartitionValues, str]] = []
        for batch in _batches(creates, CREATE_BATCH):
            response = self._call(
                glue_table.name,
                "BatchCreatePartition",
                TableName=glue_table.name,
                PartitionInputList=[
                    self._partition_input(glue_table, values, location, {})
                    for values, location in batch
                ],
            )
            errors = response.get("Errors") or []
            # Created meanwhile (another publish of the same table): make it ours by updating.
            exists = {
                tuple(e.get("PartitionValues", []))
                for e in errors
                if e.get("ErrorDetail", {}).get("ErrorCode") == "AlreadyExistsException"
            }
            self._raise_for(
                glue_table,
                "BatchCreatePartition",
                [e for e in errors if tuple(e.get("PartitionValues", [])) not in exists],
                "PartitionValues",
            )
            raced += [(values, location) for values, location in batch if values in exists]
        if raced:
            self._update(glue_table, raced, existing)

    def _update(
        self,
        glue_table: GlueTable,
        updates: Sequence[tuple[PartitionValues, str]],
        existing: dict[PartitionValues, dict[str, Any]],
    ) -> None:
        for batch in _batches(updates, UPDATE_BATCH):
            response = self._call(
                glue_table.name,
                "BatchUpdatePartition",
                TableName=glue_table.name,
                Entries=[
                    {
                        "PartitionValueList": list(values),
                        "PartitionInput": self._partition_input(
                            glue_table, values, location, existing.get(values, {})
                        ),
                    }
                    for values, location in batch
                ],
            )
            self._raise_for(
                glue_table,
                "BatchUpdatePartition",
                response.get("Errors") or [],
                "PartitionValueList",
            )

    def _delete(self, glue_table: GlueTable, deletes: Sequence[PartitionValues]) -> None:
        for batch in _batches(deletes, DELETE_BATCH):
            response = self._call(
                glue_table.name,
                "BatchDeletePartition",
                TableName=glue_table.name,
                PartitionsToDelete=[{"Values": list(values)} for values in batch],
            )
            # A partition already gone (deleted meanwhile) is what was asked for.
            self._raise_for(
                glue_table,
                "BatchDeletePartition",
                [
                    e
                    for e in response.get("Errors") or []
                    if e.get("ErrorDetail", {}).get("ErrorCode") != "EntityNotFoundException"
                ],
                "PartitionValues",
            )

    def _raise_for(
        self, glue_table: GlueTable, action: str, errors: Sequence[dict[str, Any]], values: str
    ) -> None:
        if not errors:
            return
        named = ", ".join(
            f"{'/'.join(e.get(values, []))} ({e.get('ErrorDetail', {}).get('ErrorCode')}: "
            f"{e.get('ErrorDetail', {}).get('ErrorMessage')})"
            for e in errors[:3]
        )
        error_class: type[Exception] = (
            CatalogAccessDenied
            if any(e.get("ErrorDetail", {}).get("ErrorCode") in _DENIED for e in errors)
            else CatalogPublishFailed
        )
        raise error_class(
            f"glue:{action} on {self.database}.{glue_table.name}: {len(errors)} partitions "
            f"failed: {named}"
        )

    # --------------------------------------------------------------------------- vacuum

    def vacuum(self, table: str) -> list[str]:
        """Delete the files of each (version, partition) no partition points at, once the
        partition's newest version is older than the retention; returns their prefixes.

        Why the partition's newest version rather than the version's own age: a version stops
        being read when a newer one is published, and a newer one is published within a run of
        being created. So a copy is kept while it is current, while its partition changed
        within the retention (a query planned before the change may still read it; a rollback
        may point back at it), and while a younger attempt may still publish. Files under a
        ``version=`` name this adapter did not make are never touched.
        """
        glue_table = self._table(table)
        root = glue_table.location[len(self.storage.uri("")) :]
        referenced: set[str] = set()
        for partition in self._all_partitions(glue_table):
            location = partition.get("StorageDescriptor", {}).get("Location")
            if location:
                referenced.add(_as_prefix(location))
        covered = {ancestor for location in referenced for ancestor in _ancestors(location)}

        units: dict[str, list[str]] = {}
        unit_partition: dict[str, PartitionValues | None] = {}
        unit_created: dict[str, datetime] = {}
        newest: dict[PartitionValues, datetime] = {}
        for stored in self.storage.list(root):
            parts = stored.key[len(root) :].split("/")
            version = parse_version(parts[0])
            if version is None:
                continue
            values = _hive_values(parts[1:-1], glue_table.keys)
            if values is not None:
                unit = glue_table.location + "/".join(parts[: 1 + len(glue_table.keys)]) + "/"
                newest[values] = max(newest.get(values, version.created), version.created)
            else:
                unit = self.storage.uri(stored.key)
            units.setdefault(unit, []).append(stored.key)
            unit_partition[unit] = values
            unit_created[unit] = version.created

        now = self.clock()
        deleted: list[str] = []
        for unit, keys in sorted(units.items()):
            if unit in covered or any(a in referenced for a in _ancestors(unit)):
                continue
            values = unit_partition[unit]
            changed = newest[values] if values is not None else unit_created[unit]
            if now - changed > self.retention:
                self.storage.delete(keys)
                deleted.append(unit)
        return deleted
