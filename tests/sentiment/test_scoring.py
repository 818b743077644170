from contextlib import contextmanager
from unittest import mock

import pytest
from django.utils import timezone
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment import services
from sentiment.evaluation import FIXTURE, evaluate, load
from sentiment.flagging import RuleSet
from sentiment.lexicon import DEFAULT_LEXICON
from sentiment.models import FlagRule, LexiconEntry, Mention
from sentiment.scoring import Scorer, get_scorer, label_for
from tests.sentiment.helpers import mention

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("compound", "label"),
    [(0.05, "positive"), (0.0499, "neutral"), (0.0, "neutral"), (-0.0499, "neutral"), (-0.05, "negative")],
)
def test_labels_use_vaders_documented_thresholds(compound, label):
    assert label_for(compound) == label


def test_a_text_of_several_sentences_is_scored_whole_as_vader_does():
    text = "The status updates were clear and helpful. But the outage cost us a whole day!"
    assert Scorer().score(text).compound == SentimentIntensityAnalyzer().polarity_scores(text)["compound"]
    # Averaging the sentences (as this layer once did) pulled a complaint toward zero.
    rant = "Down again. Third time this week. I am so done with this, cancelling today."
    assert get_scorer("incident").score(rant).compound < -0.6


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
    rows = load(FIXTURE)
    plain, tuned = evaluate(Scorer(), rows, "plain"), evaluate(Scorer(DEFAULT_LEXICON), rows, "layer")
    assert plain.recall("negative") < 0.5
    assert tuned.recall("negative") >= 0.8
    assert tuned.precision("negative") >= 0.95


class TestTheComplaintLayer:
    """What VADER misreads in customer complaints (issue 12), each case put right and explained."""

    @pytest.fixture
    def scorer(self):
        return Scorer(DEFAULT_LEXICON)

    def test_a_brand_name_that_is_a_word_carries_no_sentiment(self, scorer):
        text = "Happy Parcel lost my order"
        assert Scorer().score(text).label == "positive"  # VADER reads the name as happiness
        scores = scorer.score(text, neutral=("Happy Parcel",))
        assert scores.label == "negative"
        assert "happy parcel (a name: neutral)" in scores.reasons

    def test_component_names_are_neutral_without_being_told(self):
        from tests.factories import ComponentFactory

        ComponentFactory(name="Smart Sync")
        assert get_scorer("incident").score("Smart Sync").compound == 0.0

    @pytest.mark.parametrize("text", ["I have been on hold for 2 hours", "my flight was cancelled",
                                      "parcel still not arrived, stuck in the depot", "order never arrived"])
    def test_failure_in_neutral_words_is_negative_and_says_which_words(self, scorer, text):
        scores = scorer.score(text)
        assert scores.label == "negative"
        assert any("(-" in reason for reason in scores.reasons)

    def test_a_plea_in_a_complaint_is_no_praise(self, scorer):
        text = "please help, my card was declined again"
        assert Scorer().score(text).label != "negative"
        scores = scorer.score(text)
        assert scores.label == "negative"
        assert any("courtesy in a complaint" in reason for reason in scores.reasons)

    def test_praise_beside_a_failure_is_sarcasm_but_thanks_for_a_fix_is_thanks(self, scorer):
        sarcasm = scorer.score("thanks for the 3 hour wait on hold, great service")
        assert sarcasm.label == "negative" and any("sarcasm" in reason for reason in sarcasm.reasons)
        assert scorer.score("thanks for the quick fix, the outage is resolved").label == "positive"

    def test_a_complaint_question_is_negative_and_an_informational_one_is_not(self, scorer):
        assert scorer.score("why is it still down?").label == "negative"
        assert scorer.score("when will someone answer my ticket?? still waiting").label == "negative"
        assert scorer.score("when will someone answer?").label == "negative"
        assert scorer.score("when does the new season start?").label == "neutral"
        assert scorer.score("is there a refund policy?").label != "negative"
        assert scorer.score("what's your refund policy if I cancel an annual plan?").label != "negative"

    def test_an_outage_reported_as_news_is_no_complaint(self, scorer):
        assert scorer.score("Outage reported in parts of Ohio, per their status page").label != "negative"
        assert scorer.score("My internet is down, outage reported in Ohio").label == "negative"

    def test_the_tweets_of_the_vader_paper_are_not_changed_by_words_they_do_not_hold(self, scorer):
        text = "Somehow I was blessed with some really amazing friends in my life. So lucky."
        assert scorer.score(text).compound == Scorer().score(text).compound


class TestFlagging:
    def test_each_matching_rule_is_recorded_as_a_reason(self):
        m = mention("I will cancel and ask for a refund, this outage is terrible", author_followers=25_000)
        services.score_mentions([m.pk])
        m.refresh_from_db()
        assert m.flagged is True
        assert m.label == "negative" and m.scored_at is not None
        reasons = " | ".join(m.flag_reasons)
        assert m.flag_reasons[0].startswith("Negative because: ") and "outage (-2.5)" in m.flag_reasons[0]
        assert "Very negative: compound" in reasons
        assert "Churn, refund or legal words: cancel, refund" in reasons
        assert "Large audience: 25,000 followers" in reasons

    def test_a_keyword_is_found_in_its_inflections(self):
        m = mention("my subscription got cancelled and the refunds never came, awful", author_followers=None)
        services.score_mentions([m.pk])
        m.refresh_from_db()
        assert "Churn, refund or legal words: cancelled, refunds" in " | ".join(m.flag_reasons)

    def test_a_question_with_a_churn_word_or_a_big_audience_is_not_flagged_unless_it_complains(self):
        calm = mention("is there a refund policy for annual plans?", author_followers=50_000)
        angry = mention("why is my refund still not here?", author_followers=50_000)
        services.score_mentions([calm.pk, angry.pk])
        calm.refresh_from_db()
        angry.refresh_from_db()
        assert (calm.flagged, calm.flag_reasons) == (False, [])
        assert angry.flagged and "Large audience: 50,000 followers" in angry.flag_reasons

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
    result = evaluate(Scorer(DEFAULT_LEXICON), load(FIXTURE), "fixture")
    assert sum(n for (true, _), n in result.confusion.items() if true == "negative") == 40
    assert len(result.misses) == result.rows - sum(n for (t, p), n in result.confusion.items() if t == p)
    assert result.summary().startswith("sentiment fixture: negative P ")


def test_the_sweep_scores_mentions_left_unscored_and_leaves_those_whose_task_is_still_due(settings, monkeypatch):
    from comms import delivery
    from sentiment.services import STRAGGLER_AGE, score_stragglers

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(delivery, "waiting_messages", lambda queue=None: 0)  # nothing waits in the queue
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
    monkeypatch.setattr(delivery, "waiting_messages", lambda queue=None: 40)
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
    statements = []
    bound_cursor = services.bound_cursor

    class Noting:
        def __init__(self, cursor):
            self.cursor = cursor

        def execute(self, sql, *args, **kwargs):
            statements.append(sql)
            return self.cursor.execute(sql, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.cursor, name)

    @contextmanager
    def noting_cursor():  # PostgreSQL's path reads with a cursor of its own, which Django's capture does not see
        with bound_cursor() as cursor:
            yield Noting(cursor)

    with CaptureQueriesContext(connection) as queries, mock.patch.object(services, "bound_cursor", noting_cursor):
        rows = load_rows([waiting.pk, done.pk], rescore=False)

    statements += [query["sql"] for query in queries]
    assert [row.pk for row in rows] == [waiting.pk]
    assert len(statements) == 1 and "scored_at" not in statements[0].split("WHERE", 1)[1]
