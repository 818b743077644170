"""Priority and reply target of flagged mentions: the rule (sentiment.flagging.rank) and its reasons, the targets
from SENTIMENT_REPLY_TARGETS, and both set (and stored on either database) when a mention is scored."""

import runpy
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import SocialHandle
from config.env import env_durations
from incidents.choices import IncidentStatus
from sentiment import services
from sentiment.flagging import rank, reply_due
from sentiment.linking import MatchedAccount
from sentiment.models import Mention
from tests.factories import AccountFactory, IncidentFactory
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
ANGRY = "acme is down again, this outage is a disgrace and I want a refund"
NAMES = ("critical", "high", "normal")


def account(name="Bigco", tier="enterprise", arr=240_000):
    return MatchedAccount(1, name, tier, Decimal(arr), "USD")


# --- the rule ----------------------------------------------------------------------------------------------


def test_a_very_negative_key_customer_with_a_large_audience_is_critical_and_the_reason_says_why():
    ranked = rank(-0.82, 25_000, account())
    assert ranked.priority == "critical" and ranked.points == 5
    assert ranked.reason == "Critical priority (5 points): compound -0.82, 25,000 followers, key account Bigco"


@pytest.mark.parametrize(("compound", "followers", "expected"), [
    (-0.85, None, "high"),  # very negative alone: 2 points
    (-0.65, None, "normal"),  # strongly negative: 1 point
    (-0.3, 10_000, "normal"),  # a large audience: 1 point
    (-0.3, 100_000, "high"),  # a huge one: 2 points
    (-0.85, 150_000, "critical"),  # very negative to 150,000 people: 4 points
    (-0.3, None, "normal"),  # a complaint and nothing more
])
def test_how_negative_and_how_many_followers_add_up_to_a_priority(compound, followers, expected):
    assert rank(compound, followers).priority == expected


def test_a_key_account_is_high_alone_and_its_revenue_counts_when_large():
    assert rank(-0.3, None, account()).priority == "high"
    assert rank(-0.3, None, account(tier="growth")).priority == "normal"
    large = rank(-0.3, None, account(tier="growth", arr=2_500_000))
    assert (large.priority, large.points) == ("normal", 1)
    assert "account Bigco (2,500,000 USD a year)" in large.reason
    assert rank(-0.65, None, account(arr=1_000_000)).priority == "critical"  # 1 + 2 + 1


def test_an_open_incident_adds_a_point_and_is_named_in_the_reason():
    incident = IncidentFactory.build(severity="SEV1", title="Checkout down")
    ranked = rank(-0.65, None, None, incident)
    assert (ranked.priority, ranked.points) == ("high", 2)
    assert ranked.reason.endswith("compound -0.65, open incident SEV1 Checkout down")


def test_a_plain_complaint_says_that_nothing_made_it_more_urgent():
    assert rank(-0.2, 50, None).reason.startswith("Normal priority (0 points): not very negative")


# --- the targets -------------------------------------------------------------------------------------------


def test_the_reply_target_is_counted_from_when_the_mention_was_received(settings):
    settings.SENTIMENT_REPLY_TARGETS = {"critical": 900, "high": 3600, "normal": 14400}
    received = timezone.now()
    assert reply_due("critical", received) == received + timezone.timedelta(minutes=15)
    assert reply_due("normal", received) == received + timezone.timedelta(hours=4)


def test_reply_targets_read_from_the_environment_keep_the_default_for_a_priority_left_out():
    targets = env_durations("SENTIMENT_REPLY_TARGETS", "critical=15m,high=1h,normal=4h", NAMES,
                            {"SENTIMENT_REPLY_TARGETS": "critical=5m, normal=1d"})
    assert targets == {"critical": 300, "high": 3600, "normal": 86400}


@pytest.mark.parametrize("value", ["critical=15", "urgent=5m", "critical=0m", "high=1w", "high=-1h",
                                   "critical=5m,critical=10m", "15m"])
def test_a_bad_reply_target_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=r"^SENTIMENT_REPLY_TARGETS must look like critical=15m,high=1h"):
        env_durations("SENTIMENT_REPLY_TARGETS", "critical=15m,high=1h,normal=4h", NAMES,
                      {"SENTIMENT_REPLY_TARGETS": value})


def test_the_settings_read_sentiment_reply_targets_and_refuse_a_bad_one(monkeypatch):
    monkeypatch.setenv("SENTIMENT_REPLY_TARGETS", "high=30m")
    assert runpy.run_path(str(ROOT / "config" / "settings.py"))["SENTIMENT_REPLY_TARGETS"] == {
        "critical": 900, "high": 1800, "normal": 14400}
    monkeypatch.setenv("SENTIMENT_REPLY_TARGETS", "high=soon")
    with pytest.raises(ImproperlyConfigured, match="^SENTIMENT_REPLY_TARGETS must look like"):
        runpy.run_path(str(ROOT / "config" / "settings.py"))


# --- at scoring time (write_scores: the ORM on SQLite, UPDATE … FROM unnest on PostgreSQL) --------------------


def scored(item: Mention) -> Mention:
    services.score_mentions([item.pk], rescore=True)
    item.refresh_from_db()
    return item


def test_scoring_gives_a_flagged_mention_its_priority_reason_and_target_and_stores_them(settings):
    settings.SENTIMENT_REPLY_TARGETS = {"critical": 900, "high": 3600, "normal": 14400}
    bigco = AccountFactory(name="Bigco", tier="enterprise", arr=240_000)
    SocialHandle.objects.create(account=bigco, handle="ceo_of_bigco")
    incident = IncidentFactory(severity="SEV2", title="Checkout down")
    received = timezone.now() - timezone.timedelta(minutes=3)
    item = scored(mention(ANGRY, author_handle="ceo_of_bigco", author_followers=25_000, received_at=received,
                          incident=incident))

    assert item.flagged and item.compound <= -0.8
    assert item.priority == "critical"
    assert item.reply_due_at == received + timezone.timedelta(minutes=15)
    assert item.flag_reasons[0].startswith("Negative because: ")
    assert item.flag_reasons[-1] == (f"Critical priority (6 points): compound {item.compound:+.2f}, 25,000 "
                                     "followers, key account Bigco, open incident SEV2 Checkout down")


def test_an_unflagged_mention_gets_no_priority_and_no_target():
    item = scored(mention("Thanks acme, all working again", author_followers=500_000))
    assert (item.flagged, item.priority, item.reply_due_at) == (False, "", None)


def test_rescoring_recomputes_the_priority_when_the_incident_is_no_longer_open(settings):
    settings.SENTIMENT_REPLY_TARGETS = {"critical": 900, "high": 3600, "normal": 14400}
    incident = IncidentFactory(severity="SEV1", title="Login down")
    item = scored(mention("my login is still on hold", incident=incident, author_followers=12_000))
    assert item.flagged and item.compound > -0.6  # so only the audience and the open incident count
    assert item.priority == "high"
    assert item.flag_reasons[-1].endswith("12,000 followers, open incident SEV1 Login down")

    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = timezone.now()
    incident.save()
    item = scored(item)
    assert item.priority == "normal"
    assert item.reply_due_at == item.received_at + timezone.timedelta(hours=4)
    assert sum("priority" in reason for reason in item.flag_reasons) == 1


def test_write_scores_stores_priority_and_target_for_each_row_of_a_batch_and_clears_them_when_unflagged():
    due = timezone.now().replace(microsecond=0) + timezone.timedelta(minutes=7)
    first, second = mention("one"), mention("two")
    rows = services.load_rows([first.pk, second.pk], rescore=True)
    for row, priority, reply_due_at in zip(sorted(rows, key=lambda r: r.pk), ["high", ""], [due, None],
                                           strict=True):
        row.neg, row.neu, row.pos, row.compound, row.label = 0.5, 0.5, 0.0, -0.7, "negative"
        row.scored_at, row.flagged, row.flag_reasons = timezone.now(), bool(priority), ["why"] if priority else []
        row.priority, row.reply_due_at = priority, reply_due_at
    services.write_scores(rows)
    assert list(Mention.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk").values_list(
        "priority", "reply_due_at", "flagged", "flag_reasons")) == [("high", due, True, ["why"]), ("", None, False, [])]

