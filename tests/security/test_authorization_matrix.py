"""The authorization matrix (tests/security/authorization.py) against the whole URL conf: every URL and method has a
rule, and one real request per (URL, method, role) gets exactly the answer the rule gives. OWASP API5 (broken
function level authorization)."""

from functools import cache

import pytest
from django.conf import settings
from django.contrib import admin
from django.shortcuts import resolve_url
from django.urls import reverse

from comms.choices import MessageState
from core.models import Suppression
from incidents.models import ComponentGroup
from tests.security.authorization import (
    ADMIN,
    ANONYMOUS,
    CHECKED_METHODS,
    LEAD,
    MACHINE_ONLY,
    MATRIX,
    NAMESPACE_PUBLIC,
    NAMESPACE_RULES,
    ROLES,
)
from tests.security.urlconf import all_routes, distinct_routes

pytestmark = pytest.mark.django_db

MATRIX_FILE = "tests/security/authorization.py"


@cache
def routes():
    return distinct_routes()


@pytest.fixture(scope="module", autouse=True)
def schema_generated_once():
    """/api/schema/ is requested once per role; its permission check runs every time, but generating the same
    public schema again would only cost a second each (and is not what this module tests)."""
    from drf_spectacular.generators import SchemaGenerator

    original = SchemaGenerator.get_schema
    schemas = {}

    def get_schema(self, request=None, public=False):
        if public not in schemas:
            schemas[public] = original(self, request=request, public=public)
        return schemas[public]

    SchemaGenerator.get_schema = get_schema
    yield
    SchemaGenerator.get_schema = original


@pytest.fixture(scope="module", autouse=True)
def sms_subscriptions_offered():
    """The SMS subscription pages are a 404 unless Twilio is configured. Nothing is texted here: no request carries
    a valid number."""
    from django.test import override_settings

    with override_settings(TWILIO_CONFIGURED=True):
        yield


@pytest.fixture(scope="module", autouse=True)
def add_to_slack_offered():
    """The Add to Slack pages are a 404 unless a Slack app is configured. Nothing reaches Slack: the button only
    redirects, and no callback carries a state this site made."""
    from django.test import override_settings

    with override_settings(SLACK_OAUTH_CONFIGURED=True, SLACK_CLIENT_ID="1111111111.2222222222",
                           SLACK_CLIENT_SECRET="0123456789abcdef0123456789abcdef"):
        yield


# --- The objects each URL is requested with -----------------------------------------------------------------

def _object(name):
    return lambda world, role, method: {"pk": getattr(world, name).pk}


def _message(kind):
    def make(world, role, method):
        if kind == "own":
            message = world.own_message(role)
        elif kind == "any":
            message = world.message_by(world.author)
        elif kind == "preapproved":
            message = world.preapproved_draft()
        else:
            message = world.message_in(kind)
        return {"pk": message.pk}
    return make


def _maintenance(world, role, method):
    """A scheduled, submitted window a lead wrote (the same one for every request of a module's world)."""
    from django.utils import timezone

    from incidents.models import Maintenance

    start = timezone.now() + timezone.timedelta(days=5)
    window, _ = Maintenance.objects.get_or_create(
        title="Matrix maintenance",
        defaults={"what": "Upgrade.", "author": world.user(LEAD), "scheduled_for": start,
                  "scheduled_until": start + timezone.timedelta(hours=1), "approval": "submitted"})
    return {"pk": window.pk}


def _subscriber_endpoint(role, disabled=False):
    """A subscriber's webhook per role, waiting for its code (or disabled), made again if a request removed it."""
    from django.utils import timezone

    from comms.models import SubscriberEndpoint

    now = timezone.now()
    endpoint, _ = SubscriberEndpoint.objects.get_or_create(
        url=f"https://hooks.example.com/{role}/{'disabled' if disabled else 'waiting'}",
        defaults={"kind": "webhook", "requested_at": now, "confirmed_at": now if disabled else None})
    if disabled:
        SubscriberEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=now)
    return endpoint


def _api_message_detail(world, role, method):
    return _message("any" if method == "GET" else "own")(world, role, method)


TARGETS = {
    **dict.fromkeys(["incident-detail", "incident-update", "incident-status", "incident-show-public", "message-create",
                     "incident-impact-add", "incident-impacts-derive", "api-incident-detail", "api-incident-sentiment",
                     "api-incident-timeline", "api-incident-show-on-status-page"], _object("incident")),
    **dict.fromkeys(["api-incident-impacts", "api-incident-impacts-derive"],
                    lambda world, role, method: {"incident_pk": world.incident.pk}),
    **dict.fromkeys(["component-update", "component-status", "api-component-detail", "api-component-uptime"],
                    _object("component")),
    **dict.fromkeys(["component-group-update", "api-component-group-detail", "api-component-group-uptime"],
                    lambda world, role, method: {"pk": ComponentGroup.objects.get_or_create(name="EU region")[0].pk}),
    **dict.fromkeys(["message-detail", "message-progress", "api-message-preview", "api-message-deliveries"],
                    _message("any")),
    **dict.fromkeys(["message-update", "message-action[submit]", "message-action[cancel]", "api-message-submit",
                     "api-message-cancel"], _message("own")),
    "api-message-detail": _api_message_detail,
    **dict.fromkeys(["message-action[approve]", "message-action[reject]", "api-message-approve",
                     "api-message-reject"], _message(MessageState.SUBMITTED)),
    **dict.fromkeys(["message-action[retry]", "api-message-retry"], _message(MessageState.FAILED)),
    **dict.fromkeys(["message-action[publish]", "api-message-publish"], _message("preapproved")),
    **dict.fromkeys(["message-template-update", "api-template-detail"], _object("template")),
    "api-subscriber-detail": _object("subscriber"),
    **dict.fromkeys(["maintenance-detail", "maintenance-update", "maintenance-action[submit]",
                     "maintenance-action[approve]", "maintenance-action[reject]", "maintenance-action[start]",
                     "maintenance-action[complete]", "maintenance-action[cancel]"], _maintenance),
    **dict.fromkeys(["api-maintenance-detail", "api-maintenance-submit", "api-maintenance-approve",
                     "api-maintenance-reject", "api-maintenance-start", "api-maintenance-complete",
                     "api-maintenance-cancel", "api-maintenance-reschedule"], _maintenance),
    "email-suppression-lift": lambda world, role, method: {
        "pk": Suppression.objects.get_or_create(address=f"gone-{role}@example.com", reason="bounced")[0].pk},
    **dict.fromkeys(["account-detail", "account-update", "contact-create", "api-account-detail"], _object("account")),
    **dict.fromkeys(["contact-update", "contact-delete", "api-contact-detail"], _object("contact")),
    **dict.fromkeys(["impact-detail", "impact-move", "impact-update", "follow-up-create", "compensation-create",
                     "impact-message", "api-impact-detail", "api-impact-move", "api-impact-message",
                     "api-impact-sla-credit"], _object("impact")),
    **dict.fromkeys(["follow-up-complete", "api-followup-detail", "api-followup-complete"], _object("follow_up")),
    **dict.fromkeys(["compensation-move", "api-compensation-detail", "api-compensation-move"],
                    _object("compensation")),
    **dict.fromkeys(["mention-detail", "mention-action[assign]", "mention-action[respond]",
                     "mention-action[escalate]", "mention-action[dismiss]", "api-mention-detail",
                     "api-mention-assign", "api-mention-respond", "api-mention-escalate", "api-mention-dismiss"],
                    _object("mention")),
    "status-confirm": lambda world, role, method: {"token": world.subscriber.confirm_token},
    "status-unsubscribe": lambda world, role, method: {"token": world.subscriber.unsubscribe_token},
    "status-sms-verify": lambda world, role, method: {"token": "no-code-waits-here"},  # the same page either way
    "status-endpoint-confirm": lambda world, role, method: {"token": _subscriber_endpoint(role).confirm_token},
    "status-endpoint-unsubscribe": lambda world, role, method: {
        "token": _subscriber_endpoint(role).unsubscribe_token},
    "subscriber-endpoint-enable": lambda world, role, method: {"pk": _subscriber_endpoint(role, disabled=True).pk},
}

# Bodies that take an allowed request past its first form check; every other request is sent empty.
BODIES = {
    "message-action[reject]": {"reason": "Say which customers."},
    "compensation-move": {"state": "approved"},
    "api-compensation-move": {"state": "approved"},
    "mention-action[dismiss]": {"reason": "Not about us."},
}


def path_for(world, key: str, role: str, method: str) -> str:
    route = routes()[key]
    kwargs = dict(route.fixed)
    if route.params:
        kwargs.update(TARGETS[key](world, role, method))
    return reverse(route.name, kwargs=kwargs)


def client_for(world, role: str, api: bool):
    """An API client with the role's token, or a browser signed in as the role."""
    return world.api(role) if api else world.browser(role)


def send(client, method: str, path: str, data=None, api: bool = False):
    data = data or {}
    if api:
        return getattr(client, method.lower())(path, data, format="json")
    if method == "GET":
        return client.get(path)
    if method == "POST":
        return client.post(path, data)
    return client.generic(method, path)


def to_login(response, login_url: str = "") -> bool:
    login_url = login_url or resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].startswith(f"{login_url}?next=")


def answer(response) -> str:
    location = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{location}"


# --- Every URL has a rule ---------------------------------------------------------------------------------

def _namespace_rule(route):
    return route.namespace and route.namespace.split(":")[0] in NAMESPACE_RULES


def test_every_url_in_the_url_conf_has_a_rule_in_the_matrix():
    missing = sorted({
        f"{route.key} ({route.route})"
        for route in all_routes()
        if route.key not in MATRIX and route.key not in MACHINE_ONLY and not _namespace_rule(route)
    })
    assert not missing, (
        f"These URLs have no rule in {MATRIX_FILE}; add one (which roles may use each method) for: "
        + "; ".join(missing)
    )


def test_the_matrix_names_no_url_that_does_not_exist():
    gone = sorted(set(MATRIX) - set(routes()))
    assert not gone, f"{MATRIX_FILE} has rules for URLs the URL conf no longer has: {', '.join(gone)}"


def test_every_api_operation_has_a_rule_and_every_rule_an_operation():
    wrong = [
        f"{key}: the view answers {sorted(route.api_methods)}, the matrix lists {sorted(MATRIX[key])}"
        for key, route in routes().items()
        if key in MATRIX and route.api_methods is not None and route.api_methods != set(MATRIX[key])
    ]
    assert not wrong, "; ".join(wrong)


def test_every_url_with_path_parameters_is_requested_with_real_objects():
    missing = [key for key, route in routes().items() if key in MATRIX and route.params and key not in TARGETS]
    assert not missing, f"Say which object to request these with (TARGETS in {__name__}): {', '.join(missing)}"


# Known exceptions, each reported to whoever owns the view (not a file of this change).
UNDECLARED_METHOD_XFAILS: dict[str, str] = {}  # URL key → why an undeclared method is still answered


@pytest.mark.parametrize("key", [
    pytest.param(key, marks=pytest.mark.xfail(strict=True, reason=UNDECLARED_METHOD_XFAILS[key]))
    if key in UNDECLARED_METHOD_XFAILS else key
    for key in sorted(MATRIX)
])
def test_every_method_the_matrix_does_not_list_is_answered_405(world, key):
    """Asked by an admin (who may do anything; for a public URL, by an anonymous visitor), an undeclared method
    that is not 405 is an operation nobody has ruled on."""
    route = routes()[key]
    role = ANONYMOUS if all(ANONYMOUS in roles for roles in MATRIX[key].values()) else ADMIN
    client = client_for(world, role, route.is_api)
    answered = {}
    for method in set(CHECKED_METHODS) - set(MATRIX[key]):
        response = send(client, method, path_for(world, key, role, method), api=route.is_api)
        if response.status_code != 405:
            answered[method] = answer(response)
    assert not answered, f"{key} answers methods it has no rule for in {MATRIX_FILE}: {answered}"


# --- Each role gets what the matrix says ------------------------------------------------------------------

CASES = [(key, method, role) for key, methods in MATRIX.items() for method in methods for role in ROLES]


@pytest.mark.parametrize(("key", "method", "role"), CASES, ids=[" ".join(case) for case in CASES])
def test_each_role_is_allowed_or_refused_exactly_as_the_matrix_says(world, key, method, role):
    route = routes()[key]
    path = path_for(world, key, role, method)
    response = send(client_for(world, role, route.is_api), method, path, BODIES.get(key), api=route.is_api)
    status = response.status_code
    where = f"{method} {path} ({key}) as {role} answered {answer(response)}"
    if role in MATRIX[key][method]:
        assert status < 500 and status not in (401, 403, 404, 405), f"{where}; the matrix allows it"
        assert not to_login(response), f"{where}; the matrix allows it"
    elif role == ANONYMOUS and route.is_api:
        assert status == 401, f"{where}; anonymous API clients get 401"
    elif role == ANONYMOUS:
        assert to_login(response), f"{where}; anonymous visitors are sent to the login page"
    else:
        assert status == 403, f"{where}; the matrix refuses it"


# --- The Django admin: one rule for the whole namespace ----------------------------------------------------

def _admin_routes():
    return [route for route in all_routes() if route.namespace == "admin"]


def _admin_path(route, values: dict) -> str:
    if route.name is None:
        return route.sample_path({"url": "no-such-page/", **values})
    return reverse(route.name, kwargs={**route.fixed, **{name: values.get(name, 1) for name in route.params}})


@pytest.mark.parametrize("role", [role for role in ROLES if role != ADMIN])
def test_the_django_admin_sends_everyone_but_admins_to_its_sign_in_page(world, role):
    client = client_for(world, role, api=False)
    # Signed-in users meet the admin's sign-in page; anonymous visitors that or the site's (LoginRequiredMiddleware).
    logins = [reverse("admin:login"), *([resolve_url(settings.LOGIN_URL)] if role == ANONYMOUS else [])]
    refused = tuple(f"{url}?next=" for url in logins)
    wrong = []
    for route in _admin_routes():
        path = _admin_path(route, {"object_id": world.incident.pk, "id": world.user(ADMIN).pk})
        response = send(client, "GET", path)  # the admin checks who asks before it looks at the method
        if route.key in NAMESPACE_PUBLIC and response.status_code in (200, 302):
            continue
        if not (response.status_code == 302 and response["Location"].startswith(refused)):
            wrong.append(f"GET {path} ({route.key}): {answer(response)}")
    assert not wrong, f"As {role}: " + "; ".join(wrong)


def test_the_django_admin_serves_every_list_and_object_page_to_admins(world):
    """Each registered model's list, add form and first object: 200; a model the admin keeps read-only may refuse
    its add form (403), and nothing sends an admin to sign in."""
    client = client_for(world, ADMIN, api=False)
    wrong = []
    checked = 0
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        first = model.objects.order_by("pk").first()
        pages = [("changelist", {}), ("add", {})]
        if first is not None:
            pages.append(("change", {"object_id": first.pk}))
        for page, kwargs in pages:
            path = reverse(f"{prefix}_{page}", kwargs=kwargs)
            response = client.get(path)
            checked += 1
            read_only_refusal = response.status_code == 403 and page == "add"
            if response.status_code != 200 and not read_only_refusal:
                wrong.append(f"{path}: {answer(response)}")
    assert checked > 2 * len(admin.site._registry)
    assert not wrong, "; ".join(wrong)
