"""Fixtures shared by the functional tests."""

import pytest

from accounts.models import Role
from tests import factories


@pytest.fixture
def admin(db):
    """A customer who is the admin of their own workspace."""
    user = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, user)
    return user
