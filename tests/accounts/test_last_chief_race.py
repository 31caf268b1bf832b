"""Rule 3 under concurrency: two removals of a school's last two 總負責人 at the same moment leave one.

Real threads, each with its own database connection, released together by a barrier; the service's row
locks must serialise them. PostgreSQL only: SQLite has no row locks (and one writer at a time)."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import BusinessAccount, BusinessAccountStatus, BusinessAccountType
from accounts.services import Refusal
from tests.conftest import require_postgresql
from tests.helpers import signed_in_client

CHIEF = BusinessAccountType.CHIEF


def at_the_same_moment(*requests):
    """Run each request in its own thread (so its own connection), all released by one barrier."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index, request):
        try:
            barrier.wait(timeout=10)
            results[index] = request()
        except BaseException as error:  # reported to the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()  # this thread's own connection (django.db.connection is per thread)

    threads = [threading.Thread(target=run, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_action", ["delete", "change-type"])
def test_two_simultaneous_removals_of_the_last_two_chiefs_leave_one(actors, centre, second_action):
    require_postgresql("the last-總負責人 race")
    cast = actors("chief")  # the actor and the colleague are the school's only two 總負責人
    first, second = cast.actor.business_account, cast.colleague.business_account
    removals = [("delete", first), (second_action, second)]

    def removal(action, account):
        client = signed_in_client(centre)
        url = reverse(f"accounts:{action}", args=[account.pk])
        return lambda: client.post(url, {"new_type": BusinessAccountType.CONTACT})

    responses = at_the_same_moment(*[removal(action, account) for action, account in removals])

    assert not [r for r in responses if isinstance(r, BaseException)], responses
    assert sorted(response.status_code for response in responses) == [302, 409]
    refused = next(response for response in responses if response.status_code == 409)
    assert str(Refusal.LAST_CHIEF.label) in refused.content.decode()
    active = BusinessAccount.objects.filter(unit=first.unit, type=CHIEF, status=BusinessAccountStatus.ACTIVE)
    assert active.count() == 1
