"""The local Firehose delivery stream: Kinesis → transform Lambda → Parquet in the lake.

Stand-in for the Firehose delivery stream ``gs-<env>-raw-delivery`` (Kinesis source, transform
Lambda, record format conversion to Parquet, dynamic partitioning on dt/hour). It:

1. reads every shard of the readings stream (GetRecords; the next call is in flight while the
   previous page is being transformed), de-aggregating KPL records into user records as Firehose
   does for a Kinesis source (an aggregate that cannot be read is passed on whole, and the
   transform fails it with its reason);
2. builds Firehose's transformation event (base64 data, ``kinesisRecordMetadata``) in invocations
   of at most ``invocation_bytes`` of data and calls the SAME transform as the Lambda
   (:func:`consumers.firehose_transform.handler.lambda_handler`); an invocation that raises or
   answers malformed is retried ``transform_retries`` times, then its records are failed with
   ``Lambda.FunctionError``, as Firehose does. With ``transform_processes`` the invocations run in
   that many worker processes (spawned once, each a warm execution environment), several in
   flight while the next pages are read, as Firehose invokes its Lambda concurrently; a process
   that dies fails its attempt (``Runtime.ExitError``) and the retry gets fresh processes;
3. buffers ``Ok`` output per ``dt``/``hour`` partition key and flushes a buffer when it holds
   ``buffer_bytes`` of JSON or is ``buffer_seconds`` old (Firehose's buffering hints), writing one
   Parquet object (pyarrow, zstd or snappy) under ``raw/readings/dt=YYYY-MM-DD/hour=HH/`` whose
   columns and types are the Glue table's (:mod:`glucosestream.lake.raw_zone.schema`): the JSON
   lines
   are converted through that schema, as Firehose's record format conversion does (on writer
   threads, so that fsync waits overlap reading and transforming);
4. writes ``ProcessingFailed`` records (and JSON that does not convert) as JSON lines, raw bytes
   base64-encoded, under ``errors/readings/dt=YYYY-MM-DD/hour=HH/<error-output-type>/`` by arrival
   time, the layout of the Firehose error prefix
   ``errors/readings/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/``.

Where: through the lake storage port (:mod:`glucosestream.lake.storage`), keys with the lake
bucket's layout. Locally the ``.gs/lake`` directory
(:class:`~glucosestream.lake.directory.LocalLakeStorage`);
in aws mode, for the rehearsal, the lake bucket itself
(:class:`~glucosestream.adapters.s3_lake.S3LakeStorage`): :func:`delivery_lake` chooses by
``GS_MODE`` unless the caller passes a lake.

Durability: an object is durable once ``write_bytes`` has returned: S3's PutObject is atomic and
durable when it answers; the directory writes a hidden temporary, fsyncs it, renames it and fsyncs
the directory. A shard's checkpoint (``<state_dir>/firehose/<name>/<shardId>.json``, the
event-source mapping's :class:`~glucosestream.local.esm.CheckpointStore`) moves only past Kinesis
records all of whose user records are in such durable objects, so a ``kill -9`` at any point loses
nothing; a restart re-reads after the checkpoint and may land a reading twice (at-least-once),
which staging removes by the reading's identity. In a directory, the hidden temporaries a crash
left under the raw and error prefixes are deleted at start-up (S3 has none: an interrupted
PutObject leaves nothing).

Differences from AWS, on purpose: with no checkpoint the worker starts at TRIM_HORIZON (the lake
is the system of record; Terraform must create the delivery stream before producers write);
buffering hints may be smaller than Firehose's minimums (1 MiB, 0 s) so tests stay short; instead
of failing records beyond 500 active partitions, the oldest buffer is flushed early; files are
named ``<delivery stream>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.parquet`` with the Kinesis sequence range per
shard in the Parquet key-value metadata (``gs.sources``) for debugging.

The modules, by responsibility: ``worker`` (:class:`FirehoseWorker`: reading, the loop,
checkpoints), ``invocation`` (the transform Lambda's event, context, retries and response check),
``routing`` (each output record to its buffer, error documents), ``buffering`` (partition buffers
and when they are due), ``writing`` (buffers into lake objects on writer threads) and
``bookkeeping`` (the counters, what each Kinesis record still awaits).
"""

from __future__ import annotations

from glucosestream.local.firehose.buffering import DEFAULT_BUFFER_BYTES, DEFAULT_BUFFER_SECONDS
from glucosestream.local.firehose.invocation import (
    DEFAULT_INVOCATION_BYTES,
    DEFAULT_TRANSFORM_RETRIES,
)
from glucosestream.local.firehose.worker import FirehoseWorker
from glucosestream.local.firehose.writing import delivery_lake

__all__ = [
    "DEFAULT_BUFFER_BYTES",
    "DEFAULT_BUFFER_SECONDS",
    "DEFAULT_INVOCATION_BYTES",
    "DEFAULT_TRANSFORM_RETRIES",
    "FirehoseWorker",
    "delivery_lake",
]
