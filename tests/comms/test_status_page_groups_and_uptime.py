"""Component groups, the 90-day uptime bars and the embeds (badge, banner) on the public surfaces: what they show,
and what they never show (internal incidents, their ids and titles, internal notes, updates not published)."""

import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from comms import statuspage
from comms.models import Subscriber
from comms.statuspage import export
from incidents import history
from incidents.models import ComponentGroup, ComponentStatusChange
from tests.comms.test_status_page import COMPONENT_KEYS, post_update
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db

SECRET_TITLE = "SECRET-TITLE database failover"
PUBLIC_SURFACES = ["/status/", "/api/v2/summary.json", "/api/v2/components.json", "/status/embed/",
                   "/status/badge.svg"]


@pytest.fixture
def eu_region():
    group = ComponentGroup.objects.create(name="EU region", description="Frankfurt and Dublin.", position=1)
    created = timezone.now() - timedelta(days=120)
    api = ComponentFactory(name="API", group=group, display_order=1, created_at=created)
    payments = ComponentFactory(name="Payments", group=group, display_order=2, status="partial_outage",
                                created_at=created)
    lone = ComponentFactory(name="Mobile app", display_order=5, created_at=created)
    return group, api, payments, lone


def outage_yesterday(component, incident=None, minutes=60, status="major_outage"):
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    ComponentStatusChange.objects.create(component=component, from_status="operational", to_status=status,
                                         at=start, cause="incident", incident=incident)
    ComponentStatusChange.objects.create(component=component, from_status=status, to_status="operational",
                                         at=start + timedelta(minutes=minutes), cause="incident", incident=incident)
    return start


def incident_on(component, **fields):
    incident = IncidentFactory(**fields)
    incident.components.set([component])
    return incident


def days_of(page: str, name: str) -> list[str]:
    """The day labels of one row of bars, by its aria-label."""
    bar = re.search(rf'<ol class="uptime-days" aria-label="{re.escape(name)}: [^"]*">(.*?)</ol>', page, re.S)
    return re.findall(r'<span class="day-label">([^<]*)</span>', bar.group(1))


# --- Groups -------------------------------------------------------------------------------------------


def test_the_page_shows_a_group_collapsed_with_its_worst_status_and_its_components_inside(client, eu_region):
    page = client.get("/status/").content.decode()
    group_html = re.search(r'<li class="component-group" id="group-\d+">(.*?)</details>', page, re.S).group(1)
    summary = re.search(r"<summary>(.*?)</summary>", group_html, re.S).group(1)
    assert "EU region" in summary and "Partial outage" in summary and "2 components" in summary
    assert "<details open" not in page  # collapsed until the visitor opens it; no script needed
    assert group_html.index("API") < group_html.index("Payments")
    assert page.index("EU region") < page.index("Mobile app")  # position 1 before display order 5


def test_the_v2_json_has_the_group_entry_and_each_components_group_id(client, eu_region):
    group, api, payments, lone = eu_region
    documents = client.get("/api/v2/components.json").json()["components"]
    by_name = {document["name"]: document for document in documents}
    entry = by_name["EU region"]
    assert set(entry) == COMPONENT_KEYS | {"components"}
    assert (entry["group"], entry["group_id"], entry["status"], entry["components"]) == (
        True, None, "partial_outage", [str(api.pk), str(payments.pk)])
    assert isinstance(entry["id"], str) and isinstance(entry["position"], int)
    assert (by_name["API"]["group_id"], by_name["Payments"]["group_id"]) == (entry["id"], entry["id"])
    assert (by_name["Mobile app"]["group_id"], by_name["Mobile app"]["group"]) == (None, False)
    assert [document["name"] for document in documents] == ["EU region", "API", "Payments", "Mobile app"]
    assert set(by_name["API"]) == COMPONENT_KEYS
    summary = client.get("/api/v2/summary.json").json()
    assert summary["components"] == documents


def test_an_empty_group_is_not_shown(client):
    ComponentGroup.objects.create(name="Nothing here")
    ComponentFactory(name="API")
    assert "Nothing here" not in client.get("/status/").content.decode()
    assert "Nothing here" not in client.get("/api/v2/components.json").content.decode()


def test_renaming_a_group_shows_at_once(client, eu_region):
    group = eu_region[0]
    assert "EU region" in client.get("/status/").content.decode()
    group.name = "Europe"
    group.save()
    assert "Europe" in client.get("/status/").content.decode()


def test_a_visitor_subscribes_to_a_group_and_gets_all_its_components(client, eu_region):
    group, api, payments, lone = eu_region
    page = client.get("/status/subscribe/").content.decode()
    assert f'name="groups" value="{group.pk}"' in page
    response = client.post("/status/subscribe/", {"email": "reader@example.com", "groups": [group.pk],
                                                  "components": [lone.pk]})
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert set(subscriber.components.all()) == {api, payments, lone}


def test_an_unknown_group_is_refused_on_the_subscribe_form(client, eu_region):
    response = client.post("/status/subscribe/", {"email": "reader@example.com", "groups": ["999"]})
    assert response.status_code == 400
    assert not Subscriber.objects.exists()


# --- Uptime bars ------------------------------------------------------------------------------------


def test_each_component_and_group_has_ninety_labelled_days_and_its_uptime(client, eu_region):
    group, api, payments, lone = eu_region
    incident = incident_on(api, title="Slow API responses", started_at=timezone.now() - timedelta(days=1, hours=2))
    outage_yesterday(api, incident)
    page = client.get("/status/").content.decode()
    api_days = days_of(page, "API")
    for name in ("API", "Mobile app", "EU region"):  # 90 days in all, quiet days in a row as one bar of their width
        assert days_in_bar(page, name) == 90
    assert len(days_of(page, "Mobile app")) <= 2  # ninety quiet days: one or two runs (no data, then operational)
    yesterday = api_days[-2]
    assert "major outage, 60 minutes down." in yesterday and "Incidents: Slow API responses." in yesterday
    # The group is as bad as its worst component: the hour of major outage, and Payments' partial outage the rest
    # of the day (60 + 0.3 × 1,380 = 474 minutes).
    assert days_of(page, "EU region")[-2] == yesterday.replace("60 minutes", "474 minutes")
    assert days_of(page, "Mobile app")[-1].endswith("operational, no downtime.")  # up to today, one sentence
    assert re.search(r"99\.\d\d% uptime over 90 days · 99\.\d\d% over 30 days", page)


def days_in_bar(page: str, name: str) -> int:
    bar = re.search(rf'<ol class="uptime-days" aria-label="{re.escape(name)}: [^"]*">(.*?)</ol>', page, re.S).group(1)
    return sum(int(span or 1) for span in re.findall(r'<li class="day day-\w+(?: span-(\d+))?"', bar))


def test_a_day_with_something_to_say_can_be_reached_by_keyboard(client, eu_region):
    api = eu_region[1]
    outage_yesterday(api)
    page = client.get("/status/").content.decode()
    bar = re.search(r'aria-label="API: [^"]*">(.*?)</ol>', page, re.S).group(1)
    cells = re.findall(r"<li [^>]*>", bar)
    assert cells[-2] == '<li class="day day-major_outage" tabindex="0">'
    assert 'tabindex' not in cells[0]  # quiet days are read by screen readers, not tab stops


def test_internal_incidents_never_appear_in_the_bars_labels(client, eu_region):
    api = eu_region[1]
    internal = incident_on(api, title=SECRET_TITLE, public_since=None, internal_notes="SECRET-NOTES",
                           started_at=timezone.now() - timedelta(days=1, hours=2))
    outage_yesterday(api)
    for url in PUBLIC_SURFACES:
        body = client.get(url).content.decode()
        assert "SECRET" not in body, url
        assert f"#incident-{internal.pk}" not in body, url


def test_the_uptime_is_computed_once_per_page_version_not_per_request(client, eu_region):
    with mock.patch.object(history, "page_histories", wraps=history.page_histories) as computed:
        for _ in range(3):
            client.get("/status/")
        assert computed.call_count == 1
        statuspage.invalidate_status_page()
        client.get("/status/")
        assert computed.call_count == 2


def test_a_status_change_bumps_the_page_and_shows_in_todays_bar(client, eu_region, lead):
    from incidents import services

    lone = eu_region[3]
    assert "major outage" not in days_of(client.get("/status/").content.decode(), "Mobile app")[-1]
    services.set_component_status(lone, "major_outage", actor=lead)
    assert "major outage" in days_of(client.get("/status/").content.decode(), "Mobile app")[-1]


# --- Badge ------------------------------------------------------------------------------------------


def test_the_badge_shows_the_overall_status_as_an_svg(client, eu_region):
    response = client.get("/status/badge.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.startswith("<svg") and "status: Partial System Outage" in svg and "<script" not in svg
    assert client.get("/status/badge.svg", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_component_badge_shows_that_components_status(client, eu_region):
    payments = eu_region[2]
    svg = client.get(f"/status/badge.svg?component={payments.pk}").content.decode()
    assert "Payments: Partial outage" in svg and "#c2410c" in svg


@pytest.mark.parametrize(("query", "status"), [("component=abc", 400), ("component=-1", 400),
                                               ("component=99999", 404), ("component=１", 400)])
def test_a_bad_or_unknown_component_on_the_badge_is_a_4xx(client, eu_region, query, status):
    assert client.get(f"/status/badge.svg?{query}").status_code == status


def test_the_badge_escapes_a_components_name(client):
    component = ComponentFactory(name='<script>alert("x")</script> & co')
    svg = client.get(f"/status/badge.svg?component={component.pk}").content.decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


# --- Embed ------------------------------------------------------------------------------------------


def test_the_embed_shows_all_systems_operational_and_may_be_framed_by_https_sites(client):
    ComponentFactory(name="API")
    response = client.get("/status/embed/")
    assert response.status_code == 200
    assert "All systems operational" in response.content.decode()
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors https:" in policy and "'none'" in policy  # object-src stays none
    assert "<script" not in response.content.decode()


def test_other_public_pages_still_refuse_to_be_framed(client):
    response = client.get("/status/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_embed_shows_the_open_public_incident_and_its_latest_public_update(client, eu_region, lead):
    api = eu_region[1]
    incident = incident_on(api, title="Checkout errors")
    post_update(incident, lead, "PUBLIC-HEADLINE")
    post_update(incident, lead, "INTERNAL-HEADLINE", audience="internal")
    incident_on(api, title=SECRET_TITLE, public_since=None)
    page = client.get("/status/embed/").content.decode()
    assert "Checkout errors" in page and "PUBLIC-HEADLINE" in page
    assert "INTERNAL" not in page and "SECRET" not in page
    assert 'target="_blank" rel="noopener"' in page


def test_the_embed_follows_the_sites_frame_ancestors_setting(client, settings):
    settings.STATUS_EMBED_FRAME_ANCESTORS = ["https://www.example.com"]
    policy = client.get("/status/embed/")["Content-Security-Policy"]
    assert "frame-ancestors https://www.example.com" in policy


# --- Static export ----------------------------------------------------------------------------------


def test_the_export_has_the_bars_the_badge_and_the_embed_and_nothing_internal(eu_region):
    api = eu_region[1]
    incident_on(api, title=SECRET_TITLE, public_since=None, internal_notes="SECRET-NOTES")
    outage_yesterday(api)
    files = export.render_export()
    page = files["status/index.html"].decode()
    assert days_in_bar(page, "API") == 90 and "major outage" in days_of(page, "API")[-2]
    assert files["status/badge.svg"].decode().startswith("<svg")
    assert "Partial system outage" in files["status/embed/index.html"].decode()
    for name, content in files.items():
        assert b"SECRET" not in content, name
    assert json.loads(files["api/v2/components.json"])["components"][0]["group"] is True
