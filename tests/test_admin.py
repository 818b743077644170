import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_list_page_loads_for_an_admin(client, admin_user, model):
    client.force_login(admin_user)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", ["lead", "support", "manager"])
def test_roles_are_not_admins(client, users, role):
    client.force_login(users[role])
    assert client.get("/admin/").status_code == 302  # to the admin login
