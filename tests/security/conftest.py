from contextlib import contextmanager

import pytest
from django.db import transaction


@contextmanager
def rolled_back(django_db_blocker):
    """Objects made once for a whole module, inside a transaction rolled back at its end; each test's own changes
    roll back to a savepoint after it (pytest-django's transaction nests in this one)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from tests.security.world import build_world

    with rolled_back(django_db_blocker):
        yield build_world()
