"""Management commands: demo data, API tokens, roles."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from core.roles import ROLE_PERMISSIONS, sync_role_permissions
from incidents.models import Component, Incident, TimelineEntry

pytestmark = pytest.mark.django_db


def test_the_role_groups_exist_with_exactly_their_declared_permissions():
    assert sync_role_permissions() == []
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(names)


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def test_demo_data_loads_once_however_often_it_runs(capsys, debug):
    call_command("load_demo_data")
    counts = (get_user_model().objects.count(), Component.objects.count(), Incident.objects.count(),
              TimelineEntry.objects.count())
    call_command("load_demo_data")
    again = (get_user_model().objects.count(), Component.objects.count(), Incident.objects.count(),
             TimelineEntry.objects.count())
    assert counts == again
    assert counts[0] == 4 and counts[2] == 4
    output = capsys.readouterr().out
    assert "lead     / demo-lead" in output and "support  / demo-support" in output


def test_each_demo_user_has_one_role(debug):
    call_command("load_demo_data")
    roles = {u.username: [g.name for g in u.groups.all()] for u in get_user_model().objects.all()}
    assert roles == {
        "lead": ["Communications lead"],
        "manager": ["Account manager"],
        "support": ["Support"],
        "admin": [],
    }
    assert get_user_model().objects.get(username="admin").is_superuser


def test_demo_data_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo_data")
    assert not get_user_model().objects.exists()


def test_create_api_token_prints_a_working_token_alone_on_the_last_line(capsys, support, api):
    call_command("create_api_token", "support", "--days", "7")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) == 64 and " " not in token
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/incidents/").status_code == 200
    assert api.post("/api/v1/incidents/", {"title": "x"}).status_code == 403  # a token has its user's rights


def test_create_api_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="There is no user called 'ghost'"):
        call_command("create_api_token", "ghost")


def test_revoke_api_tokens_removes_them(capsys, support):
    AuthToken.objects.create(support, expiry=None)
    AuthToken.objects.create(support, expiry=None)
    call_command("revoke_api_tokens", "support")
    assert "Revoked 2 tokens of support." in capsys.readouterr().out
    assert not AuthToken.objects.filter(user=support).exists()


def test_the_openapi_schema_is_valid_and_documents_the_errors(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = target.read_text()
    assert "/api/v1/incidents/{id}/timeline/:" in schema
    assert "'409':" in schema and "Error:" in schema
