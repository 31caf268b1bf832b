"""The one adapter interface of the feeds exchanged with outside systems.

The nightly roster sync reads 全國教保資訊網 and 臺北市教師研習網 (teachers.feeds); the monthly
教保研習 hours go to 全國教保資訊網 (courses.feeds). Each feed's format belongs to the app that owns
its data; an adapter only moves the bytes, from or to a file (an SFTP drop) or an HTTP(S) endpoint:
`read()` fetches a whole document, `write(data, content_type=…)` delivers one.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol


class AdapterError(Exception):
    """The other side could not be read or written; `reason` says how in a few words (no data)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class FeedAdapter(Protocol):
    def read(self) -> bytes: ...

    def write(self, data: bytes, *, content_type: str) -> None: ...


class FileAdapter:
    """A feed as a file on the server."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise AdapterError(type(exc).__name__) from exc

    def write(self, data: bytes, *, content_type: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        partial.touch(mode=0o600)  # feeds carry national IDs: readable by the service account only
        partial.write_bytes(data)
        partial.replace(self.path)  # a reader never sees half a file


class HttpAdapter:
    """A feed over HTTP(S) with the standard library and an optional bearer token; any answer but
    2xx is a failure, and a body is read whole before it is used."""

    def __init__(self, url: str, *, token: str = "", timeout: float = 60.0):
        self.url, self.token, self.timeout = url, token, timeout

    def _exchange(self, request: urllib.request.Request) -> bytes:
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                if not 200 <= response.status < 300:
                    raise AdapterError(f"HTTP {response.status}")
                return response.read()
        except urllib.error.HTTPError as exc:
            raise AdapterError(f"HTTP {exc.code}") from exc
        except AdapterError:
            raise
        except Exception as exc:  # refused connection, timeout, a body cut off midway…
            raise AdapterError(type(exc).__name__) from exc

    def read(self) -> bytes:
        return self._exchange(urllib.request.Request(self.url, headers={"Accept": "application/x-ndjson"}))

    def write(self, data: bytes, *, content_type: str) -> None:
        request = urllib.request.Request(self.url, data=data, method="POST")
        request.add_header("Content-Type", content_type)
        self._exchange(request)


def adapter_for(location: str, *, token: str = "") -> FeedAdapter:
    """The adapter of a configured location: an http(s) URL or a file path (file:// allowed)."""
    if location.startswith(("http://", "https://")):
        return HttpAdapter(location, token=token)
    return FileAdapter(location.removeprefix("file://"))
