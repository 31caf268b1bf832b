"""Web uploads bounded by size while the body is read (批次上傳, the attendance upload, 最新消息's
attachment).

`limited_upload(view)` puts `UploadLimitHandler` first among the request's upload handlers, then
checks the CSRF token as usual (Django's documented way: the wrapper is csrf_exempt, the view
csrf_protect). The handler stops reading the body as soon as a file part is known to be too big:

- at the part's start when the request's Content-Length is over the limit (with room for the
  other fields), so none of the file is read;
- otherwise once more than the limit has arrived (no or a wrong Content-Length).

The file then reaches the view as a `RefusedUpload`: no content, its name, and a size over the
limit, so the view's own size check refuses it with its own message, as before; nothing else of
the body is read (StopUpload with connection_reset).
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.views.decorators.csrf import csrf_exempt, csrf_protect

# The other fields and the multipart boundaries of an upload form: a body at most this much over
# the limit is read up to the limit before it is judged (the file part itself may still fit).
FORM_OVERHEAD_BYTES = 64 * 1024


class RefusedUpload(SimpleUploadedFile):
    """A file part that was not read because it is over the limit: empty, its size said to be
    what was seen of it (always over the limit)."""

    def __init__(self, name: str, content_type: str, size: int):
        super().__init__(name, b"", content_type)
        self.size = size


class UploadLimitHandler(FileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = settings.UPLOAD_MAX_BYTES if limit is None else limit
        self.body_length: int | None = None
        self.received = 0  # bytes of the current file part read so far
        self.refused: tuple[str, RefusedUpload] | None = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.body_length = content_length
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        if self.body_length and self.body_length > self.limit + FORM_OVERHEAD_BYTES:
            self._refuse(self.body_length)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(self.received)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler keeps the file

    def _refuse(self, size: int):
        self.refused = (self.field_name, RefusedUpload(self.file_name, self.content_type, size))
        raise StopUpload(connection_reset=True)


def limited_upload(view=None, *, limit_setting: str = "UPLOAD_MAX_BYTES"):
    """The view's file uploads bounded by settings.UPLOAD_MAX_BYTES (or the setting named by
    `limit_setting`) while they are read: `@limited_upload` or `@limited_upload(limit_setting=…)`."""
    if view is None:
        return lambda view: limited_upload(view, limit_setting=limit_setting)
    protected = csrf_protect(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        handler = UploadLimitHandler(request, limit=getattr(settings, limit_setting))
        request.upload_handlers.insert(0, handler)
        if request.method == "POST":
            request.POST  # noqa: B018 (the body is read here, with the handler)
            if handler.refused is not None:
                field, refused = handler.refused
                request.FILES.setlist(field, [refused])
        return protected(request, *args, **kwargs)

    return csrf_exempt(wrapper)
