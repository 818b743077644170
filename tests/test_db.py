"""The `__any` lookup (core/db.py): the same rows as `__in`, on SQLite and PostgreSQL."""

import pytest

from incidents.models import Component
from tests.factories import ComponentFactory

pytestmark = pytest.mark.django_db

AWKWARD_NAMES = ["API, EU", 'Say "hi"', "{braces}", "NULL", "back\\slash", "O'Reilly", "ünïcode"]


@pytest.fixture
def components():
    return [ComponentFactory(name=name) for name in AWKWARD_NAMES]


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_any_finds_the_rows_whose_value_is_in_the_list_however_the_values_need_quoting(components):
    assert names(Component.objects.filter(name__any=AWKWARD_NAMES)) == set(AWKWARD_NAMES)
    assert names(Component.objects.filter(name__any=["NULL", "not there"])) == {"NULL"}


def test_any_by_primary_key_matches_in(components):
    wanted = [components[0].pk, components[3].pk, 10**9]
    assert list(Component.objects.filter(pk__any=wanted)) == list(Component.objects.filter(pk__in=wanted))


def test_an_empty_list_matches_no_row(components):
    assert not Component.objects.filter(name__any=[]).exists()
    assert Component.objects.exclude(name__any=[]).count() == len(AWKWARD_NAMES)


def test_none_matches_nothing_as_with_in(components):
    assert names(Component.objects.filter(name__any=[None, "NULL"])) == {"NULL"}
    assert names(Component.objects.exclude(name__any=[None, "NULL"])) == set(AWKWARD_NAMES) - {"NULL"}


def test_a_subquery_is_refused_with_a_pointer_to_in(components):
    with pytest.raises(TypeError, match="for a subquery use __in"):
        list(Component.objects.filter(pk__any=Component.objects.values("pk")))
