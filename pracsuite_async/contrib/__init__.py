"""Integrations with other frameworks, each behind its own extra.

* :mod:`pracsuite_async.contrib.fastapi` (``pip install 'pracsuite-async[fastapi]'``):
  one client per app, dependencies, an error handler, cancel-on-disconnect.
* :mod:`pracsuite_async.contrib.otel` (``pip install 'pracsuite-async[otel]'``):
  OpenTelemetry spans and metrics fed by the client's event hooks.
* :mod:`pracsuite_async.contrib.redis` (``pip install 'pracsuite-async[redis]'``):
  one rate budget shared by processes and hosts through Redis.

Importing this package imports neither framework.
"""
