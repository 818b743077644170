"""needs_answer: a negative mention is flagged when it shows a complaint the layer recognised, or is negative enough
on VADER's words alone; explanation says why on the mention's page."""

from sentiment.flagging import NEGATIVE_ENOUGH_TO_ANSWER, RuleSet, explanation, needs_answer
from sentiment.lexicon import DEFAULT_LEXICON
from sentiment.scoring import Scorer, Scores

SCORER = Scorer(DEFAULT_LEXICON)


def test_a_story_complaint_without_a_failure_word_is_flagged_and_says_why():
    scores = SCORER.score("@acme my parcel has been in transit for 12 days and no one can tell me where it is")
    assert needs_answer(scores)
    assert "time passing -1.6" in explanation(scores)


def test_a_sarcastic_thanks_is_flagged():
    assert needs_answer(SCORER.score("thanks for losing my order again"))


def test_a_mildly_negative_mention_without_a_complaint_sign_is_not_flagged():
    mild = Scores(0.2, 0.8, 0.0, NEGATIVE_ENOUGH_TO_ANSWER + 0.2)
    assert mild.label == "negative"
    assert not needs_answer(mild)


def test_a_negative_enough_mention_is_flagged_on_vaders_words_alone():
    assert needs_answer(Scores(0.4, 0.6, 0.0, NEGATIVE_ENOUGH_TO_ANSWER))


def test_an_informational_question_or_news_about_the_company_is_not_flagged():
    assert not needs_answer(SCORER.score("@acme what's your refund policy if I cancel an annual plan?"))
    assert not needs_answer(SCORER.score("Acme cuts 200 jobs as it closes stores, company says", neutral=("Acme",)))


def test_the_explanation_names_each_reason_and_the_compound():
    scores = SCORER.score("why is it still down?")
    text = explanation(scores)
    assert text.startswith("Negative because: still down (-2.6), a complaint question (-1.6); compound -")


def test_a_story_or_an_inflected_failure_is_evidence_of_a_complaint():
    story = Scores(0.2, 0.8, 0.0, -0.2, ("“for 12 days” (time passing -1.6)",))
    inflected = Scores(0.2, 0.8, 0.0, -0.2, ("vanished (vanish -1.8)",))
    named = Scores(0.2, 0.8, 0.0, -0.2, ("support (a name: neutral)",))
    assert needs_answer(story) and needs_answer(inflected)
    assert not needs_answer(named)


def test_a_keyword_rule_names_the_words_found_as_configured_the_longer_of_two_overlapping_ones_and_not_parts_of_words():
    from types import SimpleNamespace

    from sentiment.choices import RuleKind
    from sentiment.models import FlagRule

    rule = FlagRule(name="Churn", kind=RuleKind.KEYWORDS, keywords=["Moving to", "to", "sue", "Cancel"])
    rules = RuleSet([rule])

    def reasons(text):
        return rules.reasons(SimpleNamespace(text=text, compound=-0.5, author_followers=None))

    assert reasons("We are MOVING TO a rival; cancelled twice") == ["Churn: Moving to, Cancelled"]
    assert reasons("pursued by the tomato issue") == []  # "sue" in "pursued", "to" in "tomato": parts of words
    assert reasons("I will sue. Going to court") == ["Churn: to, sue"]  # in the order configured


def test_a_keyword_that_lower_case_lengthens_is_found_as_the_pattern_finds_it():
    from types import SimpleNamespace

    from sentiment.choices import RuleKind
    from sentiment.models import FlagRule

    rules = RuleSet([FlagRule(name="Churn", kind=RuleKind.KEYWORDS, keywords=["İptal"])])

    def reasons(text):
        return rules.reasons(SimpleNamespace(text=text, compound=-0.5, author_followers=None))

    assert reasons("İPTAL ediyorum") == ["Churn: İptal"] and reasons("İptal!") == ["Churn: İptal"]
