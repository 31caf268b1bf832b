"""The database session store, one write per sign-in instead of three (issue 22 point 5).

Sessions stay in PostgreSQL (django_session): they survive a Redis restart or an eviction under
memory pressure, and signing everybody out is never a side effect of restarting the Celery broker.

Django's store, at a sign-in's cycle_key(), asks whether a random new key exists (SELECT), inserts
the session under it (INSERT), and the session middleware then writes it again at the end of the
request (UPDATE). Here the new key is only chosen at cycle_key(); the middleware's save inserts the
row once. A key is 32 characters of [a-z0-9] (165 bits): a clash is the INSERT's primary-key
violation, which Django's create() answers by trying another key, so the SELECT checks nothing
the INSERT does not.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    _unsaved = False  # a key chosen by cycle_key() whose row is still to be inserted

    def _get_new_session_key(self):
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        data = self._session
        old = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._unsaved = True
        self.modified = True
        if old:
            self.delete(old)

    def save(self, must_create=False):
        if self._unsaved and not must_create:
            try:
                super().save(must_create=True)
            except CreateError:  # the key clashed: another one (create() retries)
                self._session_key = None
                self.create()
            self._unsaved = False
            return
        super().save(must_create=must_create)
