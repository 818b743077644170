import pytest
from django.utils import timezone
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment import services
from sentiment.evaluation import compare
from sentiment.flagging import RuleSet
from sentiment.models import FlagRule, LexiconEntry, Mention
from sentiment.scoring import Scorer, get_scorer, label_for, split_sentences
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("compound", "label"),
    [(0.05, "positive"), (0.0499, "neutral"), (0.0, "neutral"), (-0.0499, "neutral"), (-0.05, "negative")],
)
def test_labels_use_vaders_documented_thresholds(compound, label):
    assert label_for(compound) == label


def test_text_is_split_into_sentences_and_their_scores_averaged():
    text = "The status updates were clear and helpful. But the outage cost us a whole day!"
    first, second = "The status updates were clear and helpful.", "But the outage cost us a whole day!"
    assert split_sentences(text) == [first, second]
    plain = SentimentIntensityAnalyzer()
    expected = sum(plain.polarity_scores(s)["compound"] for s in split_sentences(text)) / 2
    assert Scorer().score(text).compound == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "text", ["@acme your API is down again", "thinking about switching after this outage", "refund please"]
)
def test_the_incident_layer_reads_what_plain_vader_misses_as_negative(text):
    assert Scorer().score(text).label != "negative"
    assert get_scorer("incident").score(text).label == "negative"


def test_plain_vader_stays_available_as_a_setting(settings):
    settings.SENTIMENT_LEXICON = "plain"
    assert get_scorer().score("@acme your API is down again").compound == 0.0


def test_phrases_in_the_lexicon_match_as_a_whole():
    scorer = Scorer({"data loss": -3.2})
    assert scorer.score("We had data loss").compound < -0.5
    assert scorer.score("We had data").compound == 0.0


def test_there_is_one_analyzer_per_process_until_the_lexicon_changes():
    first = get_scorer("incident")
    assert get_scorer("incident") is first
    LexiconEntry.objects.create(term="meltdown", valence=-3.0)
    second = get_scorer("incident")
    assert second is not first
    assert second.score("total meltdown").label == "negative"


def test_the_layer_improves_recall_on_the_labelled_fixture_without_losing_precision():
    results = compare()
    plain, tuned = results["plain VADER"], results["with incident layer"]
    assert plain.recall < 0.5
    assert tuned.recall >= 0.8
    assert tuned.precision >= 0.95


class TestFlagging:
    def test_each_matching_rule_is_recorded_as_a_reason(self):
        m = mention("I will cancel and ask for a refund, this outage is terrible", author_followers=25_000)
        services.score_mentions([m.pk])
        m.refresh_from_db()
        assert m.flagged is True
        assert m.label == "negative" and m.scored_at is not None
        reasons = " | ".join(m.flag_reasons)
        assert "Very negative: compound" in reasons
        assert "Churn, refund or legal words: cancel, refund" in reasons
        assert "Large audience: 25,000 followers" in reasons

    def test_a_calm_mention_is_not_flagged(self):
        m = mention("Thanks acme, all working again")
        services.score_mentions([m.pk])
        m.refresh_from_db()
        assert (m.flagged, m.flag_reasons, m.label) == (False, [], "positive")

    def test_a_disabled_rule_does_not_flag(self):
        FlagRule.objects.filter(kind="keywords").update(enabled=False)
        m = Mention(text="refund", compound=0.0, author_followers=None)
        assert RuleSet().reasons(m) == []

    def test_the_compound_threshold_is_configurable(self):
        FlagRule.objects.filter(kind="compound_at_most").update(threshold=-0.9)
        m = Mention(text="bad", compound=-0.6)
        assert RuleSet().reasons(m) == []

    def test_scoring_twice_does_not_rescore_unless_asked(self):
        m = mention("acme is down")
        assert services.score_mentions([m.pk]) == 1
        assert services.score_mentions([m.pk]) == 0
        assert services.score_mentions([m.pk], rescore=True) == 1


def test_the_evaluation_counts_hits_and_misses():
    result = compare()["with incident layer"]
    assert result.true_positives + result.false_negatives == 40
    assert len(result.misses) == result.false_positives + result.false_negatives


def test_the_sweep_scores_mentions_left_unscored_and_leaves_those_whose_task_is_still_due(settings, monkeypatch):
    from comms import delivery
    from sentiment.services import STRAGGLER_AGE, score_stragglers

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(delivery, "waiting_messages", lambda: 0)  # nothing waits in the queue
    lost = mention("acme is down and nobody answers")
    long_ago = timezone.now() - STRAGGLER_AGE - timezone.timedelta(seconds=5)
    Mention.objects.filter(pk=lost.pk).update(received_at=long_ago)
    just_in = mention("acme is down again")

    assert score_stragglers() == 1

    lost.refresh_from_db()
    just_in.refresh_from_db()
    assert lost.scored_at is not None and lost.label == "negative"
    assert just_in.scored_at is None
    assert score_stragglers() == 0


def test_while_tasks_wait_in_the_queue_the_sweep_leaves_mentions_their_tasks_may_still_score(settings, monkeypatch):
    from comms import delivery
    from sentiment.services import BUSY_STRAGGLER_AGE, STRAGGLER_AGE, score_stragglers

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(delivery, "waiting_messages", lambda: 40)
    queued, lost = mention("acme is down"), mention("acme is still down")
    now = timezone.now()
    Mention.objects.filter(pk=queued.pk).update(received_at=now - STRAGGLER_AGE - timezone.timedelta(minutes=1))
    Mention.objects.filter(pk=lost.pk).update(received_at=now - BUSY_STRAGGLER_AGE - timezone.timedelta(minutes=1))

    assert score_stragglers() == 1
    assert list(Mention.objects.filter(scored_at__isnull=True).values_list("pk", flat=True)) == [queued.pk]


def test_a_text_whose_case_folding_lower_case_does_not_share_is_scored_not_a_crash():
    scorer = get_scorer("incident")
    assert scorer.score("not working. not workİng").label == "negative"


def test_a_batch_is_read_by_primary_key_alone_so_the_unscored_index_is_never_scanned_for_it():
    """Told `scored_at IS NULL`, PostgreSQL read the whole unscored index (every mention still waiting) for each
    batch instead of looking up its ids: a quarter of the ingest throughput during a burst."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sentiment.services import load_rows

    waiting, done = mention("acme is down"), mention("acme is back", scored_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        rows = load_rows([waiting.pk, done.pk], rescore=False)

    assert [row.pk for row in rows] == [waiting.pk]
    assert len(queries) == 1 and "scored_at" not in queries[0]["sql"].split("WHERE", 1)[1]
