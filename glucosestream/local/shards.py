"""Finding and positioning the shards of a stream, for the local stream consumers.

Both local stand-ins for AWS's Kinesis consumers (the Lambda event-source mapping and the
Firehose delivery worker) read every shard from a durable checkpoint; they share how shards are
discovered and where each starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

SHARD_REFRESH_S = 30.0
"""How often the shard list is refreshed (a reshard adds shards)."""

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]


class ShardSource(Protocol):
    def shard_ids(self) -> list[str]: ...
    def shard_iterator(
        self, shard_id: str, after_sequence: str | None = None, *, latest: bool = False
    ) -> str: ...


class Checkpoints(Protocol):
    def load(self, shard_id: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ShardStart:
    shard_id: str
    iterator: str
    checkpoint: str | None
    """The durable checkpoint the iterator starts after (None: no checkpoint yet)."""
    from_latest: bool
    """Started at LATEST: an iterator renewed before any read must stay there."""


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

    def new_shards(self, known: Container[str]) -> list[ShardStart]:
        """Shards not in ``known``, positioned; [] between refreshes. The first listing raises
        on failure (nothing can be read); later ones log and try again at the next refresh."""
        now = self.clock()
        if self._listed_at is not None and now - self._listed_at < SHARD_REFRESH_S:
            return []
        first_listing = self._listed_at is None
        try:
            shard_ids = self.stream.shard_ids()
        except (ClientError, BotoCoreError) as error:
            if first_listing:
                raise
            logger.warning("%s: listing shards failed: %s", self.label, error)
            return []
        self._listed_at = now
        starts = []
        for shard_id in shard_ids:
            if shard_id in known:
                continue
            checkpoint = self.checkpoints.load(shard_id)
            latest = checkpoint is None and first_listing and self.starting_position == "LATEST"
            try:
                iterator = self.stream.shard_iterator(shard_id, checkpoint, latest=latest)
            except (ClientError, BotoCoreError) as error:
                if first_listing:
                    raise
                logger.warning("%s: no iterator for %s yet: %s", self.label, shard_id, error)
                continue
            starts.append(ShardStart(shard_id, iterator, checkpoint, latest))
        return starts

    def renew(self, shard_id: str, last_fetched: str | None, from_latest: bool) -> str:
        """A fresh iterator after the last record read (an iterator expires after 5 minutes
        unused). Nothing read yet under LATEST: TRIM_HORIZON would replay old records."""
        latest = last_fetched is None and from_latest
        return self.stream.shard_iterator(shard_id, last_fetched, latest=latest)
