"""Test kit for users of pracsuite_async: a fake clock, a fake transport and pytest fixtures.

* :class:`FakeClock` — virtual time: ``sleep`` returns as soon as every other task
  is blocked, advancing the clock; nothing waits for real.
* :class:`FakeTransport` — answers requests from a handler function and records them.
* The pytest plugin (``pytest_plugins = ["pracsuite_async.testing.plugin"]``) starts
  the bundled simulator on a free loopback port and hands out a client bound to it.
"""

from pracsuite_async.testing._fakes import FakeClock, FakeTransport, RecordedRequest, json_response

__all__ = ["FakeClock", "FakeTransport", "RecordedRequest", "json_response"]
