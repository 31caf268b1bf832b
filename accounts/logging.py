"""A logging filter that removes anything shaped like a national ID before a line is written."""

import logging

from accounts.national_id import ANY_ID_RE, redact


class RedactNationalIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if ANY_ID_RE.search(message):
            record.msg = redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            # Format the traceback now, so the redaction also covers it.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
