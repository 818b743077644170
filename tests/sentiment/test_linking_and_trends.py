import pytest
from django.utils import timezone

from incidents import services
from incidents.choices import IncidentStatus
from sentiment.linking import IncidentLinker
from sentiment.models import SentimentAlert
from sentiment.trends import check_negative_spikes, incident_series
from tests.factories import ComponentFactory, MessageFactory
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db
now = timezone.now
minutes = lambda n: timezone.timedelta(minutes=n)  # noqa: E731


@pytest.fixture
def payments(lead):
    return services.create_incident(actor=lead, title="Payments", severity="SEV1",
                                    components=[ComponentFactory(name="Checkout")], started_at=now() - minutes(60))


def link(text, posted_at):
    return IncidentLinker(posted_at, posted_at).incident_for(text, posted_at)


def test_a_mention_naming_an_affected_component_is_linked(payments):
    assert link("checkout keeps failing", now()) == payments


def test_with_one_open_incident_an_outage_complaint_is_linked(payments):
    assert link("is acme down?", now()) == payments
    assert link("acme has a new logo", now()) is None


def test_with_two_open_incidents_only_a_named_component_decides(payments, lead):
    services.create_incident(actor=lead, title="Search", started_at=now() - minutes(30))
    assert link("is acme down?", now()) is None
    assert link("checkout is down", now()) == payments


def test_a_component_name_is_found_in_any_case_as_a_whole_word_also_one_lower_changes_in_length(lead):
    istanbul = services.create_incident(actor=lead, title="Network", severity="SEV1", started_at=now() - minutes(60),
                                        components=[ComponentFactory(name="İstanbul DC")])
    services.create_incident(actor=lead, title="Search", started_at=now() - minutes(30),
                             components=[ComponentFactory(name="Search API")])
    assert link("ISTANBUL DC is unreachable", now()) == istanbul  # as the pattern always found it
    assert link("SEARCH api times out", now()) is not None and link("research apis", now()) is None


def test_a_mention_before_the_incident_is_not_linked(payments):
    assert link("checkout is down", now() - minutes(90)) is None


def test_mentions_within_the_window_after_resolution_are_linked(payments, lead, settings):
    settings.SENTIMENT_LINK_WINDOW_HOURS = 2
    services.change_status(payments, IncidentStatus.RESOLVED, actor=lead)
    assert link("checkout was down all morning", now() + minutes(60)) == payments
    assert link("checkout was down all morning", now() + minutes(180)) is None


def test_the_series_buckets_mentions_and_marks_each_public_message(payments, lead):
    start = payments.started_at
    for offset, compound, label in [(5, -0.8, "negative"), (7, -0.6, "negative"), (20, 0.3, "positive")]:
        mention(f"m{offset}", incident=payments, posted_at=start + minutes(offset), compound=compound, label=label,
                scored_at=now())
    MessageFactory(incident=payments, author=lead, headline="We are on it", channels=["statuspage"],
                   dispatched_at=start + minutes(15), state="sent")

    series = incident_series(payments)

    first, second = series["buckets"][0], series["buckets"][1]
    assert (first["volume"], first["mean_compound"], first["share_negative"]) == (2, -0.7, 1.0)
    assert (second["volume"], second["mean_compound"], second["share_negative"]) == (1, 0.3, 0.0)
    (marker,) = series["markers"]
    assert (marker["headline"], marker["mean_compound_hour_before"], marker["mean_compound_hour_after"]) == (
        "We are on it", -0.7, 0.3)
    assert marker["change"] == 1.0


def test_the_series_is_served_as_json(api_as, support, payments):
    body = api_as(support).get(f"/api/v1/incidents/{payments.pk}/sentiment/?bucket=30").json()
    assert body["bucket_minutes"] == 30 and len(body["buckets"]) >= 2
    assert api_as(support).get(f"/api/v1/incidents/{payments.pk}/sentiment/?bucket=0").status_code == 400


class TestSpikes:
    def negatives(self, incident, count, minutes_ago):
        for n in range(count):
            mention(f"bad {minutes_ago}-{n}", incident=incident, label="negative", compound=-0.7,
                    posted_at=now() - minutes(minutes_ago), scored_at=now())

    def test_a_spike_alerts_once_and_closes_when_it_falls_back(self, payments, support, lead, mailoutbox):
        self.negatives(payments, 6, minutes_ago=10)
        assert check_negative_spikes() == 1
        assert check_negative_spikes() == 0  # still spiking: no second alert
        assert len(mailoutbox) == 1
        assert set(mailoutbox[0].to) == {"support@example.com", "lead@example.com"}
        assert "6 in the last hour" in payments.timeline.last().description
        check_negative_spikes(now=now() + minutes(120))  # an hour later nothing new came in
        assert SentimentAlert.objects.get().ended_at is not None

    def test_a_steady_stream_is_not_a_spike(self, payments):
        self.negatives(payments, 24, minutes_ago=300)  # 2 an hour over the previous 12 hours, on average
        self.negatives(payments, 5, minutes_ago=10)
        assert check_negative_spikes() == 0


def test_a_long_incident_gets_wider_buckets_not_more_of_them(lead):
    long_one = services.create_incident(actor=lead, title="Long", started_at=now() - timezone.timedelta(days=5))
    series = incident_series(long_one, 15, max_buckets=288)
    assert len(series["buckets"]) <= 288
    assert series["bucket_minutes"] % 15 == 0 and series["bucket_minutes"] > 15
    assert len(incident_series(long_one, 15)["buckets"]) > 288
