import pytest

from core.roles import ACCOUNT_MANAGER
from tests.factories import UserFactory


@pytest.fixture
def other_manager(db):
    """An account manager who is not `manager`: the owner of accounts `manager` may not work on."""
    return UserFactory(username="manager2", role=ACCOUNT_MANAGER)
