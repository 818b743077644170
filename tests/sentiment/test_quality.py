"""Quality in production: review outcomes as labels, the daily spot-check, the quality page and API, and
suggested lexicon entries accepted in one click."""

import random
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sentiment import quality, review
from sentiment.models import LexiconEntry, Mention
from sentiment.scoring import get_scorer
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db


def scored(text="all good here", *, flagged=False, **fields):
    return mention(text, scored_at=timezone.now(), compound=-0.7 if flagged else 0.1, flagged=flagged, **fields)


def reviewed(text, *, flagged, outcome, **fields):
    """A reviewed mention: outcome is responded, escalated, or dismissed:<kind>."""
    state, _, kind = outcome.partition(":")
    return scored(text, flagged=flagged, review_state=state, dismiss_reason=kind, reviewed_at=timezone.now(),
                  **fields)


# --- Review outcomes are labels ---------------------------------------------------------------------------------

def test_a_dismissal_records_its_kind_and_uses_its_label_as_the_note_when_no_words_are_given(support):
    dismissed = review.dismiss(scored(flagged=True), actor=support, kind="not_negative")
    assert (dismissed.dismiss_reason, dismissed.review_note) == ("not_negative", "Not negative (a false flag)")


def test_a_dismissal_needs_a_kind_or_a_reason_and_refuses_an_unknown_kind(support):
    m = scored(flagged=True)
    with pytest.raises(ValidationError):
        review.dismiss(m, actor=support)
    with pytest.raises(ValidationError):
        review.dismiss(m, actor=support, kind="bored")
    assert Mention.objects.get(pk=m.pk).review_state == "new"


def test_reopening_a_dismissed_mention_forgets_its_old_label(support):
    m = review.dismiss(scored(flagged=True), actor=support, kind="not_about_us")
    assert review.assign(m, actor=support).dismiss_reason == ""


def test_the_api_dismisses_with_a_kind_and_refuses_neither_kind_nor_reason(api_as, support):
    m = scored(flagged=True)
    client = api_as(support)
    refused = client.post(f"/api/v1/mentions/{m.pk}/dismiss/", {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()["fields"]
    wrong = client.post(f"/api/v1/mentions/{m.pk}/dismiss/", {"kind": "bored"}, format="json")
    assert wrong.status_code == 400
    done = client.post(f"/api/v1/mentions/{m.pk}/dismiss/", {"kind": "already_handled"}, format="json").json()
    assert (done["review_state"], done["dismiss_reason"]) == ("dismissed", "already_handled")


def test_the_dismiss_form_posts_its_kind(client, support):
    m = scored(flagged=True)
    client.force_login(support)
    client.post(f"/mentions/{m.pk}/dismiss/", {"kind": "no_answer_needed", "reason": ""})
    assert Mention.objects.get(pk=m.pk).dismiss_reason == "no_answer_needed"


# --- The daily spot-check ---------------------------------------------------------------------------------------

def test_the_spot_check_samples_only_scored_unflagged_unreviewed_recent_mentions(settings):
    # 240 a day: ten due even in the day's first hour (at 24 a day the test failed from midnight to 2 am)
    settings.SENTIMENT_SPOT_CHECKS_PER_DAY = 240
    eligible = {scored(f"fine {n}").pk for n in range(3)}
    scored("flagged", flagged=True)
    mention("not scored yet")
    scored("already reviewed", review_state="dismissed")
    scored("yesterday's", received_at=timezone.now() - timedelta(days=2))
    assert quality.sample_spot_checks(rng=random.Random(1)) == 3
    assert set(Mention.objects.filter(spot_check=True).values_list("pk", flat=True)) == eligible


def test_the_spot_check_spreads_its_daily_number_over_the_day_and_adds_nothing_when_run_again(settings):
    settings.SENTIMENT_SPOT_CHECKS_PER_DAY = 8
    for n in range(20):
        scored(f"fine {n}")
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    # received in the last day, as seen from noon: a minute apart by their order (ids need not be small)
    for n, pk in enumerate(Mention.objects.values_list("pk", flat=True)):
        Mention.objects.filter(pk=pk).update(received_at=noon - timedelta(minutes=n))
    assert quality.sample_spot_checks(now=noon) == 5  # 8 × (12 + 1) / 24, rounded up
    assert quality.sample_spot_checks(now=noon) == 0
    assert quality.sample_spot_checks(now=noon.replace(hour=23, minute=30)) == 3


def test_no_spot_checks_when_the_daily_number_is_zero(settings):
    settings.SENTIMENT_SPOT_CHECKS_PER_DAY = 0
    scored("fine")
    assert quality.sample_spot_checks() == 0


def test_spot_checks_wait_in_the_default_queue_marked_as_such_and_have_a_filter_of_their_own(client, support):
    sampled = scored("the app feels slow today", spot_check=True, spot_checked_at=timezone.now())
    scored("just a mention")
    flag = scored("refund me now", flagged=True)
    client.force_login(support)
    page = client.get("/mentions/").content.decode()
    assert "the app feels slow today" in page and "Spot check" in page and "just a mention" not in page
    only = client.get("/mentions/?filtered=1&spot_check=on&state=open").content.decode()
    assert f'id="mention-{sampled.pk}"' in only and f'id="mention-{flag.pk}"' not in only


# --- The report -------------------------------------------------------------------------------------------------

def test_the_first_mention_received_in_a_window_is_found_across_gaps_in_the_ids():
    now = timezone.now()
    rows = [scored(f"m{n}", received_at=now - timedelta(hours=48 - n)) for n in range(40)]
    Mention.objects.filter(pk__in=[rows[n].pk for n in (20, 21, 22, 23)]).delete()
    since = now - timedelta(hours=48 - 22)
    bound = quality.first_pk_received_since(since)
    assert Mention.objects.filter(pk__gte=bound).order_by("pk").first() == rows[24]
    assert quality.first_pk_received_since(now + timedelta(hours=1)) is None
    assert quality.first_pk_received_since(now - timedelta(days=30)) == rows[0].pk


def test_the_report_counts_outcomes_and_estimates_recall_from_the_spot_checks():
    for _ in range(6):
        reviewed("down again", flagged=True, outcome="responded")
    reviewed("down again", flagged=True, outcome="escalated")
    reviewed("down again", flagged=True, outcome="dismissed:already_handled")
    reviewed("i love it", flagged=True, outcome="dismissed:not_negative")
    reviewed("meh", flagged=True, outcome="dismissed:no_answer_needed")
    reviewed("old style", flagged=True, outcome="dismissed:")  # before reasons: labels nothing
    reviewed("slow", flagged=False, outcome="responded", spot_check=True, spot_checked_at=timezone.now())
    for _ in range(3):
        reviewed("fine", flagged=False, outcome="dismissed:not_negative", spot_check=True,
                 spot_checked_at=timezone.now())
    for n in range(16):
        scored(f"nothing {n}")

    report = quality.quality_report(30)

    assert report.flags == {"right": 8, "false": 1, "needless": 1, "unlabelled": 1, "open": 0}
    assert (report.flag_precision.hits, report.flag_precision.total) == (8, 10)
    assert (report.flag_negative.hits, report.flag_negative.total) == (9, 10)
    assert (report.miss_rate.hits, report.miss_rate.total) == (1, 4)
    assert (report.flagged, report.unflagged) == (11, 20)
    right, missed = 0.8 * 11, 0.25 * 20
    assert report.recall == pytest.approx(right / (right + missed))
    assert report.recall_low < report.recall < report.recall_high


def test_no_recall_is_estimated_before_any_spot_check_is_reviewed():
    reviewed("down", flagged=True, outcome="responded")
    scored("fine", spot_check=True, spot_checked_at=timezone.now())
    report = quality.quality_report(30)
    assert report.recall is None and report.spot_checks["open"] == 1


def test_the_wilson_interval_stays_inside_zero_and_one_and_is_wide_for_few_samples():
    low, high = quality.wilson(0, 5)
    assert low == 0 and 0.4 < high < 0.5
    low, high = quality.wilson(5, 5)
    assert 0.5 < low < 0.6 and high == 1
    assert quality.wilson(500, 1000)[1] - quality.wilson(500, 1000)[0] < 0.07


def test_false_flags_are_explained_by_their_evidence_and_rules():
    reasons = ["Negative because: down (-1.5), still (complaint marker); compound -0.60", "Very negative: compound"]
    reviewed("x", flagged=True, outcome="dismissed:not_negative", flag_reasons=reasons)
    reviewed("y", flagged=True, outcome="dismissed:not_about_us",
              flag_reasons=["Negative because: down (-1.5); compound -0.40"])
    report = quality.quality_report(30)
    assert report.false_flag_reasons[0] == ("down", 2)
    assert ("rule: Very negative", 1) in report.false_flag_reasons


# --- Suggestions and accepting them -----------------------------------------------------------------------------

def test_words_over_represented_in_missed_complaints_are_suggested_as_negative_terms():
    for text in ("they skrunked me after the outage", "support skrunked my ticket", "totally skrunked, no reply"):
        reviewed(text, flagged=False, outcome="responded", spot_check=True, spot_checked_at=timezone.now())
    for n in range(30):
        scored(f"the dashboard works, order {n} arrived")
    LexiconEntry.objects.update_or_create(term="outage", defaults={"valence": -2.0})
    suggestions = {s.term: s for s in quality.suggest_entries(timezone.now() - timedelta(days=30))}
    assert suggestions["skrunked"].valence < 0 and suggestions["skrunked"].documents == 3
    assert "outage" not in suggestions  # already in the lexicon
    assert "the" not in suggestions and "after" not in suggestions  # stop words


def test_negative_words_over_represented_in_false_flags_are_suggested_as_neutral():
    for text in ("Grim Forge patch notes are out", "grim forge season two", "new grim mode tonight"):
        reviewed(text, flagged=True, outcome="dismissed:not_negative")
    for text in ("my order never came", "still waiting on a refund", "app crashed again"):
        reviewed(text, flagged=True, outcome="responded")
    suggestions = {s.term: s for s in quality.suggest_entries(timezone.now() - timedelta(days=30))}
    assert suggestions["grim"].valence == 0
    assert "patch" not in suggestions  # not negative to begin with: nothing to neutralise


def test_an_admin_accepts_a_suggestion_and_the_scorer_uses_it(admin_user):
    before = get_scorer().score("they skrunked me").compound
    entry = quality.accept_suggestion("Skrunked", -2.0, actor=admin_user, why="in 3 missed complaints")
    assert (entry.term, entry.valence) == ("skrunked", -2.0) and "in 3 missed complaints" in entry.note
    assert get_scorer().score("they skrunked me").compound < before


def test_accepting_a_suggestion_for_an_existing_term_re_weights_it(admin_user):
    LexiconEntry.objects.update_or_create(term="grim", defaults={"valence": -1.5})
    quality.accept_suggestion("grim", 0, actor=admin_user)
    assert LexiconEntry.objects.get(term="grim").valence == 0


@pytest.mark.parametrize("role", ["support", "lead", "manager"])
def test_only_those_who_may_edit_the_lexicon_accept_suggestions(users, role):
    with pytest.raises(PermissionDenied):
        quality.accept_suggestion("skrunked", -2.0, actor=users[role])
    assert not LexiconEntry.objects.filter(term="skrunked").exists()


@pytest.mark.parametrize(("term", "valence"), [("", -1.0), ("x" * 61, -1.0), ("skrunked", -5.0), ("skrunked", None)])
def test_a_bad_term_or_valence_is_refused(admin_user, term, valence):
    with pytest.raises(ValidationError):
        quality.accept_suggestion(term, valence, actor=admin_user)


# --- The page and the API -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [("support", 200), ("lead", 200), ("manager", 403), ("roleless", 403)])
def test_the_quality_page_is_for_reviewers(client, users, role, status):
    client.force_login(users[role])
    assert client.get("/mentions/quality/").status_code == status


def test_the_quality_page_shows_precision_and_offers_accept_buttons_to_admins_only(client, support, admin_user):
    for text in ("they skrunked me", "skrunked again"):
        reviewed(text, flagged=False, outcome="escalated", spot_check=True, spot_checked_at=timezone.now())
    reviewed("down", flagged=True, outcome="responded")
    for n in range(10):
        scored(f"all fine {n}")
    client.force_login(support)
    page = client.get("/mentions/quality/?days=7").content.decode()
    assert "skrunked" in page and "Accept" not in page and "An admin" in page
    client.force_login(admin_user)
    page = client.get("/mentions/quality/").content.decode()
    assert 'name="term" value="skrunked"' in page
    response = client.post("/mentions/quality/accept/", {"term": "skrunked", "valence": "-1.5"})
    assert response.status_code == 302 and LexiconEntry.objects.get(term="skrunked").valence == -1.5


def test_support_cannot_accept_a_suggestion_on_the_page(client, support):
    client.force_login(support)
    assert client.post("/mentions/quality/accept/", {"term": "skrunked", "valence": "-1.5"}).status_code == 403
    assert not LexiconEntry.objects.filter(term="skrunked").exists()


def test_the_quality_api_reports_the_figures_and_refuses_a_bad_period(api_as, support, manager):
    reviewed("down", flagged=True, outcome="responded")
    reviewed("fine", flagged=True, outcome="dismissed:not_negative")
    body = api_as(support).get("/api/v1/mentions/quality/?days=7").json()
    assert body["flag_precision"] == {"hits": 1, "total": 2, "value": 0.5, "low": pytest.approx(0.0945, abs=1e-3),
                                      "high": pytest.approx(0.9055, abs=1e-3)}
    assert api_as(support).get("/api/v1/mentions/quality/?days=0").status_code == 400
    assert api_as(support).get("/api/v1/mentions/quality/?days=x").status_code == 400
    assert api_as(manager).get("/api/v1/mentions/quality/").status_code == 403


def test_the_api_accepts_a_suggestion_for_admins_only(api_as, admin_user, lead):
    refused = api_as(lead).post("/api/v1/mentions/quality/accept/", {"term": "skrunked", "valence": -1.5},
                                format="json")
    assert refused.status_code == 403
    bad = api_as(admin_user).post("/api/v1/mentions/quality/accept/", {"term": "skrunked", "valence": 9},
                                  format="json")
    assert bad.status_code == 400
    done = api_as(admin_user).post("/api/v1/mentions/quality/accept/", {"term": "skrunked", "valence": -1.5},
                                   format="json")
    assert done.status_code == 201 and done.json()["term"] == "skrunked"


def test_the_api_lists_spot_checks_with_their_flag(api_as, support):
    sampled = scored("slow", spot_check=True, spot_checked_at=timezone.now())
    scored("fine")
    body = api_as(support).get("/api/v1/mentions/?spot_check=true").json()
    assert [(row["id"], row["spot_check"]) for row in body["results"]] == [(sampled.pk, True)]


def test_the_dashboard_tells_reviewers_how_many_spot_checks_wait(client, support):
    scored("slow", spot_check=True, spot_checked_at=timezone.now())
    client.force_login(support)
    assert "1 spot check</a>" in client.get("/").content.decode()
