"""Defaults and environment variable names, in one place."""

from __future__ import annotations

from typing import Final

#: Production base URL (README "Basics").
DEFAULT_BASE_URL: Final = "https://api.pracsuite.com/v1"
#: Environment variables read when keys are not passed explicitly.
ENV_VENDOR_KEY: Final = "PRACSUITE_VENDOR_KEY"
ENV_ACCOUNT_KEY: Final = "PRACSUITE_ACCOUNT_KEY"
#: Requests in flight at once, per client (one connection each).
DEFAULT_MAX_CONCURRENCY: Final = 16
#: Seconds one attempt may take (connect, send, read the whole body).
DEFAULT_TIMEOUT: Final = 30.0
#: Seconds a whole call may take: limiter waits, all attempts and backoff sleeps.
DEFAULT_DEADLINE: Final = 300.0
#: Pages a list walk keeps in flight at once (as many as the default concurrency,
#: so one export can use every connection).
DEFAULT_PAGE_WINDOW: Final = 16
#: Bytes an API response body may have (JSON: a 100-record page is well under
#: 1 MB); past it the read stops with ResponseTooLargeError.
DEFAULT_MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
#: Bytes a presigned attachment download may have: storage refuses uploads over
#: 100 MB (README "Attachments upload"), with headroom for its own rounding.
DEFAULT_MAX_DOWNLOAD_BYTES: Final = 128 * 1024 * 1024
