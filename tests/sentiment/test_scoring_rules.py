"""The customer-service layer's second round of rules (issue 12), each on a small hand-written text: what it reads
as a complaint, what it leaves alone, and how it explains itself."""

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment.lexicon import DEFAULT_LEXICON
from sentiment.scoring import Scorer


@pytest.fixture(scope="module")
def scorer():
    return Scorer(DEFAULT_LEXICON)


def score(scorer, text):
    return scorer.score(text, neutral=("Acme",))


def reasons(scores) -> str:
    return " | ".join(scores.reasons)


class TestFailureVocabulary:
    def test_a_failure_word_is_found_in_its_inflections_and_names_its_lexicon_entry(self):
        scorer = Scorer({"vanish": -1.8})
        scores = scorer.score("my invoices vanished overnight")
        assert scores.label == "negative"
        assert "vanished (vanish -1.8)" in scores.reasons
        assert scorer.score("my invoices vanishes").label == "negative"

    def test_an_inflection_vader_already_knows_keeps_vaders_weight(self):
        vader = SentimentIntensityAnalyzer()
        scorer = Scorer({"ruin": -3.5})
        assert scorer.analyzer.lexicon["ruined"] == vader.lexicon["ruined"]

    def test_a_longer_phrase_is_named_rather_than_the_shorter_one_inside_it(self, scorer):
        scores = score(scorer, "the app crashed and lost my data")
        assert "lost my data (-3.4)" in scores.reasons
        assert not any(reason.startswith("lost my (") for reason in scores.reasons)

    def test_a_plea_keeps_its_weight_when_courtesy_is_neutralised(self, scorer):
        scores = score(scorer, "my card was declined again, please help")
        assert scores.label == "negative"
        assert "please help (-1.2)" in scores.reasons


class TestStoryComplaints:
    def test_days_passing_with_nothing_happening_is_a_complaint(self, scorer):
        scores = score(scorer, "my parcel has been in transit for 12 days and no one can tell me where it is")
        assert scores.label == "negative"
        assert "“for 12 days” (time passing -1.6)" in scores.reasons

    def test_an_order_that_has_been_waiting_for_days_is_a_complaint(self, scorer):
        scores = score(scorer, "ordered on Monday, been 5 days and still nothing")
        assert scores.label == "negative"
        assert any("time passing" in reason for reason in scores.reasons)

    def test_years_with_a_company_are_loyalty_not_waiting(self, scorer):
        scores = score(scorer, "been on Acme for 2 yrs, never had a single issue")
        assert not any("time passing" in reason for reason in scores.reasons)
        assert scores.label != "negative"

    def test_the_same_thing_again_and_again_is_a_complaint(self, scorer):
        scores = score(scorer, "called Acme 6 times today")
        assert scores.label == "negative"
        assert "“6 times” (again and again -1.2)" in scores.reasons

    def test_a_delay_of_hours_is_time_passing(self, scorer):
        assert "“3 hour delay” (time passing -1.6)" in score(scorer, "3 hour delay again").reasons


class TestSarcasm:
    def test_thanks_before_a_failure_is_sarcasm(self, scorer):
        scores = score(scorer, "thanks for losing my order again")
        assert SentimentIntensityAnalyzer().polarity_scores("thanks for losing my order again")["compound"] > 0
        assert scores.label == "negative"
        assert "thanks beside a failure (sarcasm -2.0)" in scores.reasons

    def test_a_short_sentence_of_praise_after_a_failure_is_sarcasm(self, scorer):
        scores = score(scorer, "my parcel never arrived. lovely.")
        assert scores.label == "negative"
        assert any("lovely beside a failure" in reason for reason in scores.reasons)

    def test_praise_after_a_weak_failure_word_stays_praise(self, scorer):
        scores = score(scorer, "I lost my keys this morning but my neighbour found them, love her")
        assert scores.label == "positive"
        assert not any("sarcasm" in reason for reason in scores.reasons)

    def test_thanks_for_a_remedy_is_thanks_whatever_went_wrong_before(self, scorer):
        scores = score(scorer, "thanks for waiving the late fee, it really helped")
        assert scores.label == "positive"
        assert "late (put right: neutral)" in scores.reasons


class TestQuestions:
    def test_a_why_question_to_the_company_is_a_complaint_even_after_a_negation(self, scorer):
        scores = score(scorer, "@acme why does the search never find anything")
        assert scores.label == "negative"
        assert "a complaint question (-1.6)" in scores.reasons

    def test_why_about_ones_own_choice_or_in_a_statement_is_no_complaint(self, scorer):
        own_choice = score(scorer, "switched last month, why didn't I do this sooner?")
        assert own_choice.label != "negative" and "a complaint question (-1.6)" not in own_choice.reasons
        assert score(scorer, "I do not get why people dislike it, it is brilliant").label == "positive"

    def test_double_question_marks_are_a_complaint_question(self, scorer):
        assert score(scorer, "@acme hello?? ticket 80455").label == "negative"

    def test_an_informational_question_is_neutral_though_vader_colours_its_words(self, scorer):
        text = "@acme can I restrict page editing to groups or is that Business only?"
        assert SentimentIntensityAnalyzer().polarity_scores(text)["compound"] < 0
        scores = score(scorer, text)
        assert scores.label == "neutral"
        assert any(reason.startswith("an informational question: VADER's -") for reason in scores.reasons)

    def test_asking_for_a_refund_is_not_a_refund_put_right(self, scorer):
        scores = score(scorer, "@acme the seat I paid for was given away. Can I get that refunded please?")
        assert "refunded (refund -1.8)" in scores.reasons
        assert not any("put right" in reason for reason in scores.reasons)


    def test_asking_once_and_calmly_whether_the_service_is_down_is_neutral(self, scorer):
        for text in ("is the acme app down? trying to log in and getting error 503",
                     "is acme down or is it just me? getting a spinning wheel"):
            scores = score(scorer, text)
            assert scores.label == "neutral", text
            assert any(reason.startswith("a question whether it is down: VADER's -") for reason in scores.reasons)

    def test_asking_whether_it_is_down_again_still_or_insistently_stays_a_complaint(self, scorer):
        for text in ("is acme down again? third time this week", "is the app still down? error 503",
                     "is the acme app down?? getting error 503", "is acme down? it's been 3 hours"):
            assert score(scorer, text).label == "negative", text


class TestNews:
    def test_news_about_the_company_leaves_vaders_colour_out(self, scorer):
        text = "Acme cuts 200 jobs as it closes stores, company says"
        scores = score(scorer, text)
        assert scores.label == "neutral"
        assert any(reason.startswith("news, not a complaint") for reason in scores.reasons)

    def test_news_about_anything_else_keeps_its_sentiment(self, scorer):
        assert score(scorer, "Woman reported dead in house fire").label == "negative"

    def test_a_failure_told_to_the_company_is_a_complaint_not_news(self, scorer):
        scores = score(scorer, "@acme still no broadband. engineer visit confirmed for today, no one came")
        assert scores.label == "negative"
        assert not any("reported" in reason for reason in scores.reasons)

    def test_support_saying_something_does_not_make_a_complaint_news(self, scorer):
        scores = score(scorer, "support says wait. the app is not working for 3 days now")
        assert scores.label == "negative"


class TestProductFailures:
    """Round three: general customer-service phrasing (things that do not work, where the order is)."""

    def test_an_app_that_wont_open_or_a_phone_that_keeps_restarting_is_a_complaint(self, scorer):
        assert "won't open (-2.0)" in score(scorer, "the app won't open since the update").reasons
        scores = score(scorer, "my phone keeps restarting after the update")
        assert scores.label == "negative"
        assert "keeps restarting (-1.8)" in scores.reasons
        assert "stopped charging (-2.0)" in score(scorer, "my headphones stopped charging").reasons

    def test_not_being_able_to_sign_in_is_a_complaint_with_a_phones_apostrophe_too(self, scorer):
        scores = score(scorer, "I can\u2019t sign in to my account")
        assert scores.label == "negative"
        assert "can't sign in (-2.0)" in scores.reasons

    def test_a_phones_apostrophe_still_negates(self, scorer):
        assert score(scorer, "the new update isn\u2019t good").label == "negative"

    def test_eagerness_is_no_failure(self, scorer):
        assert score(scorer, "can't wait for my trip next week!").label == "positive"

    def test_where_are_my_things_and_delivered_but_not_here_are_complaints(self, scorer):
        scores = score(scorer, "where are my packages? the app says delivered")
        assert scores.label == "negative"
        assert "where are my (-1.8)" in scores.reasons and "says delivered (-1.8)" in scores.reasons

    def test_a_how_to_question_stays_neutral(self, scorer):
        assert score(scorer, "@acme how do I change my delivery address?").label == "neutral"

    def test_support_is_the_department_not_praise(self, scorer):
        scores = score(scorer, "support says it should work")
        assert SentimentIntensityAnalyzer().polarity_scores("support says it should work")["compound"] > 0.05
        assert scores.label == "neutral"
        assert "support (a name: neutral)" in scores.reasons

    def test_a_phrase_ending_in_a_negation_still_negates_the_praise_after_it(self, scorer):
        scores = score(scorer, "still not happy with the service")
        assert scores.label == "negative"
        assert "still not (-1.8)" in scores.reasons
        assert score(scorer, "still no refund").label == "negative"  # a failure after it is not turned around


class TestNamesAndEmphasis:
    def test_a_handle_is_a_name_whatever_its_word_means(self, scorer):
        text = "@united my bag is at the wrong airport"
        assert SentimentIntensityAnalyzer().lexicon["united"] > 0
        scores = scorer.score(text)
        assert scores.label == "negative"
        assert "@united (a handle: neutral)" in scores.reasons

    def test_repeated_angry_emoji_are_each_read(self, scorer):
        scores = score(scorer, "@acme 🤬🤬🤬 flight SA502")
        assert scores.label == "negative" and scores.compound < -0.8

    def test_again_shouted_is_a_complaint_but_not_in_thanks(self, scorer):
        scores = score(scorer, "my controller is drifting AGAIN")
        assert scores.label == "negative"
        assert "“AGAIN” (again and again -1.2)" in scores.reasons
        assert score(scorer, "Thanks AGAIN for sorting it").label == "positive"


class TestWaitingStories:
    def test_a_delay_of_hours_on_the_tarmac_or_on_the_phone_is_time_passing(self, scorer):
        tarmac = score(scorer, "3 hours on the tarmac and no info")
        assert "“3 hours on the tarmac” (time passing -1.6)" in tarmac.reasons
        scores = score(scorer, "been on the phone for 2 hours")
        assert scores.label == "negative"
        assert "“on the phone for 2 hours” (time passing -1.6)" in scores.reasons

    def test_a_short_wait_is_no_story(self, scorer):
        scores = score(scorer, "only waited 5 minutes, brilliant service")
        assert scores.label == "positive"
        assert not any("time passing" in reason for reason in scores.reasons)

    def test_praise_alone_at_the_end_of_a_sentence_about_a_failure_is_sarcasm(self, scorer):
        scores = score(scorer, "flight delayed 3 hours, great")
        assert scores.label == "negative"
        assert "great beside a failure (sarcasm -2.0)" in scores.reasons

    def test_praise_in_a_longer_last_clause_stays_praise(self, scorer):
        scores = score(scorer, "lost my bag at the airport, the staff who found it were great")
        assert not any("sarcasm" in reason for reason in scores.reasons)


class TestPraiseWithANegation:
    def test_praise_said_with_a_negation_is_praise(self, scorer):
        for text in ("the new app has never been better", "can't recommend it enough",
                     "couldn't be happier with the upgrade", "no issues at all since the switch"):
            assert SentimentIntensityAnalyzer().polarity_scores(text)["compound"] < 0.05, text
            assert score(scorer, text).label == "positive", text
