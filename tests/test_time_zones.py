"""Times: each person chooses a time zone on their profile (blank: the site's TIME_ZONE); every time the pages show
says its zone, datetime inputs are read in it, and the public status page stays in the site's zone with <time>
elements that localtime.js shows in the visitor's own."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Preferences
from incidents.models import Incident
from tests.comms.helpers import open_public_incident
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

WINTER_START = datetime(2026, 1, 15, 10, 55, tzinfo=UTC)  # 05:55 EST in New York
SUMMER_START = datetime(2026, 7, 15, 10, 55, tzinfo=UTC)  # 06:55 EDT in New York


@pytest.fixture
def new_yorker(lead):
    Preferences.objects.create(user=lead, time_zone="America/New_York")
    return lead


# --- Preferences ----------------------------------------------------------------------------------------------


def test_preferences_refuse_a_time_zone_that_does_not_exist(lead):
    with pytest.raises(ValidationError) as refused:
        Preferences(user=lead, time_zone="Mars/Olympus_Mons").full_clean()
    assert "Mars/Olympus_Mons is not a time zone" in refused.value.message_dict["time_zone"][0]


@pytest.mark.parametrize("name", ["America/New_York", "UTC", ""])
def test_preferences_accept_a_real_time_zone_or_blank_for_the_sites(lead, name, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # not UTC, so "blank means the site's zone" is told apart
    preferences = Preferences(user=lead, time_zone=name)
    preferences.full_clean()
    assert str(preferences.zone) == (name or settings.TIME_ZONE)


# --- Pages show times in the user's zone, and say which -------------------------------------------------------


def test_a_user_in_new_york_sees_the_incident_page_times_in_eastern_time(client, new_yorker):
    winter = IncidentFactory(title="Winter outage", started_at=WINTER_START)
    summer = IncidentFactory(title="Summer outage", started_at=SUMMER_START)
    client.force_login(new_yorker)

    assert "2026-01-15 05:55 EST" in client.get(winter.get_absolute_url()).content.decode()
    assert "2026-07-15 06:55 EDT" in client.get(summer.get_absolute_url()).content.decode()


def test_a_user_in_new_york_sees_the_dashboard_and_incident_list_times_in_eastern_time(client, new_yorker):
    IncidentFactory(title="Winter outage", started_at=WINTER_START)
    client.force_login(new_yorker)

    assert 'title="Started 2026-01-15 05:55 EST"' in client.get("/").content.decode()
    assert "2026-01-15 05:55 EST" in client.get("/incidents/").content.decode()


def test_a_user_without_a_preference_sees_the_sites_zone_named(client, lead, settings):
    assert settings.TIME_ZONE == "UTC"
    IncidentFactory(title="Winter outage", started_at=WINTER_START)
    client.force_login(lead)

    assert "2026-01-15 10:55 UTC" in client.get("/incidents/").content.decode()


def test_the_zone_costs_one_query_and_is_put_back_after_the_request(client, new_yorker):
    client.force_login(new_yorker)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/incidents/").status_code == 200
    assert sum("core_preferences" in query["sql"] for query in captured) == 1
    assert timezone.get_current_timezone_name() == "UTC"


# --- Inputs are read in the user's zone -----------------------------------------------------------------------


def test_an_incident_start_entered_as_0555_in_new_york_is_stored_as_1055_utc(client, new_yorker):
    client.force_login(new_yorker)
    response = client.post("/incidents/new/", {
        "title": "Card payments failing", "severity": "SEV1", "kind": "service", "status": "investigating",
        "started_at": "2026-01-15T05:55",
    })

    assert response.status_code == 302
    assert Incident.objects.get().started_at == WINTER_START


def test_the_incident_and_message_forms_say_which_zone_their_times_are_read_in(client, new_yorker):
    incident = IncidentFactory()
    client.force_login(new_yorker)

    incident_form = client.get("/incidents/new/").content.decode()
    composer = client.get(f"/incidents/{incident.pk}/messages/new/").content.decode()

    assert re.search(r"Read as America/New_York time \((EST|EDT)\)", incident_form)
    assert incident_form.count("Read as America/New_York time") == 2  # started and detected
    assert re.search(r"Read as America/New_York time \((EST|EDT)\)", composer)  # scheduled for


# --- The profile page -----------------------------------------------------------------------------------------


def test_the_profile_page_requires_sign_in(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/profile/")


def test_a_user_chooses_paris_on_their_profile_and_sees_it_named(client, support):
    client.force_login(support)
    page = client.get("/profile/").content.decode()
    assert 'id="id_time_zone"' in page and '<label for="id_time_zone">Time zone' in page
    assert "Times are shown in UTC." in page
    assert '<optgroup label="Europe">' in page

    response = client.post("/profile/", {"time_zone": "Europe/Paris"}, follow=True)

    page = response.content.decode()
    assert re.search(r"Saved\. Times are now shown in Europe/Paris \(CES?T\)\.", page)
    assert re.search(r"Times are shown in Europe/Paris \(CES?T\)\.", page)
    assert '<option value="Europe/Paris" selected>Paris</option>' in page
    assert Preferences.objects.get(user=support).time_zone == "Europe/Paris"


def test_the_profile_page_refuses_an_unknown_zone_and_saves_nothing(client, support):
    client.force_login(support)
    response = client.post("/profile/", {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 200
    assert "Mars/Olympus_Mons is not a time zone" in response.content.decode()
    assert not Preferences.objects.exists()


def test_the_header_links_the_profile_and_the_components(client, roleless):
    client.force_login(roleless)
    page = client.get("/profile/").content.decode()
    assert '<a href="/profile/" aria-current="page">Profile</a>' in page
    assert '<a href="/components/" >Components</a>' in page


# --- The public status page -----------------------------------------------------------------------------------


def test_the_status_page_times_are_time_elements_and_its_script_is_served_locally(client, lead, settings):
    open_public_incident(lead, title="Card payments failing", started_at=WINTER_START)
    page = client.get("/status/").content.decode()

    shown = re.findall(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d \w+", page)
    in_time_elements = re.findall(r'<time datetime="[^"]+">(\d{1,2} \w{3} \d{4}, \d\d:\d\d \w+)</time>', page)
    assert shown and shown == in_time_elements
    assert '<time datetime="2026-01-15T10:55:00+00:00">15 Jan 2026, 10:55 UTC</time>' in page
    assert '<p id="time-zone-note">Times are shown in UTC.</p>' in page  # without JavaScript
    [script] = re.findall(r'<script src="([^"]+)"', page)
    assert script == f"{settings.STATIC_URL}ears/localtime.js"  # this site, never a CDN
    assert finders.find("ears/localtime.js")


def test_a_signed_in_new_yorker_does_not_put_new_york_times_in_the_shared_status_page(client, new_yorker):
    open_public_incident(new_yorker, title="Card payments failing", started_at=WINTER_START)
    client.force_login(new_yorker)
    assert "15 Jan 2026, 10:55 UTC" in client.get("/status/").content.decode()  # rendered and cached now
    client.logout()
    assert "15 Jan 2026, 10:55 UTC" in client.get("/status/").content.decode()
