"""A real redis-server on a free loopback port: ``redis_server()`` for the benchmarks, fixture ``redis_url``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str | None]:
    """``redis://`` URL of a throwaway redis-server, stopped afterwards; ``None`` when none is installed."""
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(  # noqa: S603 - a fixed local binary
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.02)  # real-time-ok: a real process starts listening; no clock to fake
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://`` URL of a throwaway redis-server (skipped outside CI when none is installed)."""
    required = bool(os.environ.get("PRACSUITE_REQUIRE_SERVERS"))
    try:
        import redis  # noqa: F401 - only to know whether the extra is installed
    except ImportError:
        if required:
            pytest.fail("the redis package is required in CI (the dev extra installs it)")
        pytest.skip("the redis package is not installed (pip install 'pracsuite-async[redis]')")
    with redis_server() as url:
        if url is None:
            if required:
                pytest.fail("redis-server is required in CI (.ci/run installs it)")
            pytest.skip("redis-server is not installed (.ci/run installs it in CI)")
        yield url
