"""The layers of docs/architecture.md hold in the code: the contract, the settings and the hooks agree."""

import re
import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings

from accounts import hooks as account_hooks
from comms import hooks as comms_hooks
from core import demo, roles
from incidents import hooks as incident_hooks
from incidents.signals import incident_changed, public_change

ROOT = Path(__file__).resolve().parent.parent
LAYERS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]


def test_the_apps_are_installed_in_the_order_of_the_layers_contract():
    project_apps = [name for name in settings.INSTALLED_APPS if name in LAYERS]
    assert project_apps == list(reversed(LAYERS[1:]))  # config is not an app; the contract lists the top first


def test_every_hook_a_lower_app_declares_has_the_registrations_the_architecture_names():
    def names(hook):
        return {function.__module__.split(".")[0] for function in hook}

    assert names(incident_hooks.close_checks) == {"accounts", "sentiment"}
    assert names(incident_hooks.page_panels) == {"sentiment"}
    assert names(account_hooks.timeline_sources) == {"comms", "sentiment"}
    assert names(account_hooks.negative_mentions) == {"sentiment"}
    assert names(account_hooks.message_drafter) == {"comms"}
    assert names(account_hooks.awaiting_approval) == {"comms"}
    assert names(demo.steps) == {"core", "incidents", "accounts", "comms", "sentiment"}
    assert names(comms_hooks.dashboard_panels) == {"sentiment"}
    assert public_change.has_listeners() and incident_changed.has_listeners()


def test_each_app_grants_permissions_only_on_models_that_exist():
    known = {f"{model._meta.app_label}.{action}_{model._meta.model_name}"
             for model in apps.get_models() for action in ("view", "add", "change", "delete")}
    custom = {f"{model._meta.app_label}.{codename}" for model in apps.get_models()
              for codename, _ in model._meta.permissions}
    granted = set().union(*roles.ROLE_PERMISSIONS.values())
    assert granted and granted <= known | custom


def test_every_path_the_architecture_and_readme_name_exists():
    named = set()
    for doc in ("docs/architecture.md", "README.md"):
        text = (ROOT / doc).read_text()
        named |= set(re.findall(
            r"`((?:config|core|incidents|accounts|comms|sentiment|templates|bench|docs)/[\w./-]*(?:\.py|\.html|\.md|/))`",
            text))
    missing = sorted(path for path in named if not (ROOT / path.rstrip("/")).exists())
    assert named and not missing, f"named but not in the tree: {missing}"
