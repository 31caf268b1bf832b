"""Audit trail registration (django-auditlog): account and unit changes, never the ID columns."""

from auditlog.registry import auditlog

from accounts.models import BusinessAccount, Person, Unit, User

auditlog.register(User, exclude_fields=["password", "last_login"])
auditlog.register(Person, exclude_fields=["national_id_digest", "national_id_encrypted"])
auditlog.register(BusinessAccount)
auditlog.register(Unit)
