"""Finding, positioning and pacing the shards of a stream, for the local stream consumers.

Both local stand-ins for AWS's Kinesis consumers (the Lambda event-source mapping and the
Firehose delivery worker) read every shard from a durable checkpoint with a
:class:`~glucosestream.adapters.kinesis.ShardReader`; they share how shards are discovered, where
each starts, and how a shard backs off after a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Literal, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from glucosestream.adapters.kinesis import ShardReader, ShardSource

logger = logging.getLogger(__name__)

SHARD_REFRESH_S = 30.0
"""How often the shard list is refreshed (a reshard adds shards)."""
UNREACHABLE_RETRY_S = 1.0
"""How soon a first listing is tried again after Kinesis could not be reached."""
UNREACHABLE = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)
"""Kinesis not answering (down, restarting): waited for, never a reason to stop a consumer."""
BACKOFF_INITIAL_S = 0.1
BACKOFF_MAX_S = 5.0

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]


class Checkpoints(Protocol):
    def load(self, shard_id: str) -> str | None: ...


@dataclass
class Backoff:
    """How long a shard waits after a failure: 0.1 s, doubling with each failure in a row up to
    5 s; a success starts again from 0.1 s. Other shards go on meanwhile."""

    delay_s: float = 0.0
    retry_at: float = 0.0
    """The shard is left alone until then (epoch seconds)."""

    def failed(self, now: float) -> None:
        self.delay_s = min(BACKOFF_MAX_S, max(BACKOFF_INITIAL_S, self.delay_s * 2))
        self.retry_at = now + self.delay_s

    def succeeded(self) -> None:
        self.delay_s = 0.0


class ShardDiscovery:
    """Lists shards now and then and positions each new one: after its checkpoint, else at the
    starting position — on the first listing only; a shard that appears later is a reshard's
    child, all of whose records are new, so it is read from its start (LATEST would lose them,
    and AWS reads children from their start)."""

    def __init__(
        self,
        stream: ShardSource,
        checkpoints: Checkpoints,
        starting_position: StartingPosition,
        clock: Callable[[], float],
        label: str,
    ) -> None:
        self.stream = stream
        self.checkpoints = checkpoints
        self.starting_position = starting_position
        self.clock = clock
        self.label = label
        self._listed_at: float | None = None
        """When shards were last listed (or tried, while Kinesis could not be reached)."""
        self._listed = False
        """A listing has succeeded."""
        self.lineage: dict[str, tuple[str, ...]] = {}
        """Every shard of the last successful listing and its parents (a reshard's)."""

    def new_shards(self, known: Container[str]) -> list[ShardReader]:
        """Readers of the shards not in ``known``, positioned; [] between refreshes. Kinesis not
        answering is waited for (the first listing is tried again every second: a consumer
        started while the stream restarts catches up once it is back); any other failure of the
        first listing raises (a missing stream, denied access: nothing could ever be read);
        later listings log it and try again at the next refresh."""
        now = self.clock()
        wait = SHARD_REFRESH_S if self._listed else UNREACHABLE_RETRY_S
        if self._listed_at is not None and now - self._listed_at < wait:
            return []
        first_listing = not self._listed
        try:
            lineage = self.stream.shard_lineage()
        except (ClientError, BotoCoreError) as error:
            if first_listing and not isinstance(error, UNREACHABLE):
                raise
            self._listed_at = now
            logger.warning("%s: listing shards failed: %s", self.label, error)
            return []
        self._listed_at = now
        self.lineage = lineage
        readers = []
        unreachable = False
        for shard_id in lineage:
            if shard_id in known:
                continue
            checkpoint = self.checkpoints.load(shard_id)
            latest = checkpoint is None and first_listing and self.starting_position == "LATEST"
            try:
                readers.append(ShardReader.at(self.stream, shard_id, checkpoint, latest=latest))
            except (ClientError, BotoCoreError) as error:
                if first_listing and not isinstance(error, UNREACHABLE):
                    raise
                unreachable = True
                logger.warning("%s: no iterator for %s yet: %s", self.label, shard_id, error)
        # A first listing cut short by Kinesis going away stays the first: the shards it could
        # not position get the starting position at the retry, not a reshard child's.
        if not (first_listing and unreachable):
            self._listed = True
        return readers
