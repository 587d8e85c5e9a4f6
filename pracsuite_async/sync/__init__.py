"""Resumable incremental mirrors of PracSuite data: the sync engine and its sinks.

::

    from pracsuite_async import PracSuiteClient
    from pracsuite_async.sync import SqliteSink, sync

    async with PracSuiteClient() as client:
        result = await sync(client, ["appointments", "patients"], SqliteSink("mirror.sqlite"))
    print(result.inserted, result.updated, result.deleted)

Run it every few minutes, from as many workers as you like: each run fetches only
what changed since its checkpoint, two workers never sync the same resource at
once, and a run killed at any point resumes where its last commit left off.
How each resource syncs is the table :data:`RESOURCES`; sinks are
:class:`SqliteSink` (default), :class:`JsonlSink`, :class:`PostgresSink` (the
``postgres`` extra) or your own :class:`Sink`.
"""

from pracsuite_async.sync._engine import ResourceResult, SyncResult, sync
from pracsuite_async.sync._jsonl import JsonlSink
from pracsuite_async.sync._postgres import PostgresSink
from pracsuite_async.sync._sink import Batch, Checkpoint, LeaseHeldError, Row, Sink, WriteCounts
from pracsuite_async.sync._specs import RESOURCES, Column, DeletionFeed, ResourceSync
from pracsuite_async.sync._sqlite import SqliteSink

__all__ = [
    "RESOURCES",
    "Batch",
    "Checkpoint",
    "Column",
    "DeletionFeed",
    "JsonlSink",
    "LeaseHeldError",
    "PostgresSink",
    "ResourceResult",
    "ResourceSync",
    "Row",
    "Sink",
    "SqliteSink",
    "SyncResult",
    "WriteCounts",
    "sync",
]
