"""Every message the portal sends carries the portal's subject prefix and a Message-ID of the
site's own domain (settings.SITE_DOMAIN; Django's default is the host name, `localhost` in a
container). PortalEmailBackend does both, then hands the message to EMAIL_DELIVERY_BACKEND."""

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid


def brand(message) -> None:
    prefix = settings.EMAIL_SUBJECT_PREFIX
    subject = str(message.subject or "")
    if not subject.startswith(prefix):
        message.subject = prefix + subject
    if not any(name.lower() == "message-id" for name in message.extra_headers):
        message.extra_headers["Message-ID"] = make_msgid(domain=settings.SITE_DOMAIN)


class PortalEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.delivery = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.delivery.open()

    def close(self):
        return self.delivery.close()

    def send_messages(self, email_messages):
        for message in email_messages:
            brand(message)
        return self.delivery.send_messages(email_messages)
