"""The sentiment admin: list pages, flag-rule validation, and X searches that show when they fail."""

import pytest
from django.urls import reverse
from django.utils import timezone

from sentiment.models import FlagRule, LexiconEntry, Mention, SentimentAlert, XSearch
from sentiment.x_source import NOT_CONFIGURED
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", [Mention, LexiconEntry, FlagRule, XSearch, SentimentAlert],
                         ids=lambda model: model.__name__)
def test_every_sentiment_list_page_loads_with_rows_for_a_superuser(admin_client, model):
    incident = IncidentFactory()
    Mention.objects.create(source="x", external_id="1", text="Checkout is down", posted_at=timezone.now(),
                           author_handle="dana", label="negative", compound=-0.6, flagged=True, incident=incident)
    LexiconEntry.objects.create(term="spinner", valence=-1.5)
    XSearch.objects.create(name="Acme", query="@acme")
    SentimentAlert.objects.create(incident=incident, ratio=4.0, negatives_last_hour=12)
    url = reverse(f"admin:sentiment_{model._meta.model_name}_changelist")

    response = admin_client.get(url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() > 0


def test_a_failing_x_search_shows_its_status_and_error_in_the_list(admin_client, settings):
    settings.X_BEARER_TOKEN = "test-bearer"
    XSearch.objects.create(name="Acme", query="@acme", status=XSearch.Status.FAILING,
                           last_error="X refused the search (401): Unauthorized.")

    page = admin_client.get(reverse("admin:sentiment_xsearch_changelist")).content.decode()

    assert ">Failing</strong>" in page and "X refused the search (401): Unauthorized." in page
    assert NOT_CONFIGURED not in page


def test_without_a_bearer_token_the_x_searches_say_not_configured(admin_client, settings):
    settings.X_BEARER_TOKEN = ""
    XSearch.objects.create(name="Acme", query="@acme", status=XSearch.Status.OK)

    page = admin_client.get(reverse("admin:sentiment_xsearch_changelist")).content.decode()

    assert ">Not configured</strong>" in page
    assert page.count(NOT_CONFIGURED) == 2  # the warning above the list, and the row's error column


def flag_rule_form(admin_client, **data):
    response = admin_client.post(reverse("admin:sentiment_flagrule_add"),
                                 {"name": "Rule", "kind": "keywords", "threshold": "", "keywords": "", **data})
    return response.context["adminform"].form.errors if response.status_code == 200 else response


@pytest.mark.parametrize("data, field, message", [
    ({"kind": "compound_at_most"}, "threshold", "compound threshold between −1 and 1"),
    ({"kind": "compound_at_most", "threshold": "-5"}, "threshold", "compound threshold between −1 and 1"),
    ({"kind": "followers_at_least", "threshold": "10.5"}, "threshold", "whole number of followers"),
    ({"kind": "keywords"}, "keywords", "at least one word"),
    ({"kind": "keywords", "keywords": "refund", "threshold": "3"}, "threshold", "leave it empty"),
    ({"kind": "key_account", "keywords": "refund"}, "keywords", "leave them empty"),
])
def test_a_flag_rule_must_have_what_its_kind_needs_and_nothing_else(admin_client, data, field, message):
    errors = flag_rule_form(admin_client, **data)
    assert message in " ".join(errors[field])
    assert not FlagRule.objects.filter(name="Rule").exists()


def test_keyword_rules_take_one_word_or_phrase_per_line(admin_client):
    response = flag_rule_form(admin_client, keywords="refund\n\n  lost data \r\nchargeback")
    assert response.status_code == 302
    assert FlagRule.objects.get(name="Rule").keywords == ["refund", "lost data", "chargeback"]


def test_changing_an_x_query_forgets_the_half_read_poll_of_the_old_query(admin_client):
    search = XSearch.objects.create(name="Acme", query="@acme", since_id="1850", pending_next_token="tok",
                                    pending_newest_id="1900")
    url = reverse("admin:sentiment_xsearch_change", args=[search.pk])
    form = {"name": "Acme", "query": "@acme", "enabled": "on", "interval_seconds": "60"}

    admin_client.post(url, form)
    search.refresh_from_db()
    assert search.pending_next_token == "tok"  # unchanged query: the poll resumes

    admin_client.post(url, form | {"query": "@acme OR acme.com"})
    search.refresh_from_db()
    assert (search.query, search.pending_next_token, search.pending_newest_id, search.since_id) == (
        "@acme OR acme.com", "", "", "1850")


def test_mentions_cannot_be_added_or_rescored_by_hand_in_the_admin(admin_client):
    mention = Mention.objects.create(source="x", external_id="1", text="down", posted_at=timezone.now(),
                                     label="negative")
    assert admin_client.get(reverse("admin:sentiment_mention_add")).status_code == 403
    page = admin_client.get(reverse("admin:sentiment_mention_change", args=[mention.pk]))
    assert list(page.context["adminform"].form.fields) == ["incident"]
