"""VADER, with a customer-service layer: the whole text scored at once, and what VADER misreads in complaints put
right before it reads them. Each change is named in the score's reasons, so a mention explains its label.

What the layer does (sentiment.lexicon holds the words; every term is a LexiconEntry, editable in the admin):
- Terms of the layer's lexicon are added to VADER's (phrases become single tokens): failure in neutral words
  ("on hold", "cancelled", "still waiting"), outages, churn and legal threats.
- Neutral terms (a lexicon entry with valence 0: the company's name, its handles, product names) and the
  components' names are read as no sentiment at all: "Happy Parcel lost my order" is not half happy.
- In a complaint (a failure term in the text), pleas and courtesy ("please help", "thanks") carry no positive
  weight, and praise in the same sentence as a failure ("thanks for losing my order again") is sarcasm.
- A question that asks why or when about a failure ("why is it still down?"), "why" put to the company, "??" and
  rhetorical questions ("who thought this was a good idea") are complaints; a question without one ("is there a
  refund policy?") is not, and VADER's colour in an informational question or in news about a name we know ("…
  cuts 200 jobs, company says") is not counted.
- A complaint told as a story: time passing while nothing happens ("been 5 days", "for 12 days … no one"), the
  same thing again ("called 6 times"). Thanks for a remedy ("thanks for waiving the late fee") is thanks.
- A single failure word also matches its inflections ("vanish": "vanished"), named as "vanished (vanish -1.8)".
- Round three, general customer-service phrasing: things that do not work in plain words ("won't open", "can't sign
  in", "keeps restarting", "stopped charging": lexicon entries, one per combination), "where are my …", "says
  delivered"; an @handle is a name ("@united" is not united +1.8), and so is "support"; a phone's apostrophe
  ("can’t") reads as "can't"; angry emoji in a row are each read; a phrase ending in a negation ("still not") still
  negates the praise after it ("still not happy"); "AGAIN" shouted in a text without thanks is the same thing
  again; waiting told as "delayed 3 hours", "3 hours on the tarmac", "on the phone for 2 hours" is time passing
  ("only waited 5 minutes" is not); praise alone at the end of a sentence about a failure ("delayed 3 hours,
  great") is sarcasm; praise said with a negation ("never been better", "can't recommend it enough") is praise.
- Round four: asking once and calmly whether the service is down ("is the app down? getting error 503", "is X down or
  is it just me?") is neutral, as people label it; with "??", "again", "still", "why" or time passing it complains.

Cost (about as many instructions as one call of vaderSentiment's polarity_scores on the same text): which terms a
text holds is found through its words (a dict of first and second words, a substring test on the words joined by
spaces), and where they stand with str.find (terms.py), never by a pattern compiled for the terms a text holds (a
compile costs as much as scoring the text); the story patterns run only when their words are there; VADER runs
once, on the rewritten text, in vader.py: vaderSentiment's algorithm with its results to the last digit, at a
quarter of its cost.

Labels use VADER's documented thresholds (compound ≥ 0.05 positive, ≤ −0.05 negative). VADER scores a text of
several sentences as a whole (its "but" and negation rules work within it); averaging sentence scores, as this
module once did, pulled every longer complaint toward zero. SENTIMENT_LEXICON = "plain" keeps plain VADER.
"""

from functools import lru_cache

from django.conf import settings
from django.db.models import Count, Max

from sentiment.scoring.layer import Scorer
from sentiment.scoring.patterns import split_sentences
from sentiment.scoring.scores import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, Scores, label_for

__all__ = ["NEGATIVE_THRESHOLD", "POSITIVE_THRESHOLD", "Scorer", "Scores", "get_scorer", "label_for",
           "lexicon_version", "split_sentences"]


def lexicon_version() -> tuple:
    from incidents.models import Component
    from sentiment.models import LexiconEntry

    state = LexiconEntry.objects.aggregate(count=Count("pk"), latest=Max("updated_at"))
    components = Component.objects.aggregate(count=Count("pk"), latest=Max("created_at"))
    return (state["count"], state["latest"], components["count"], components["latest"])


def get_scorer(mode: str | None = None) -> Scorer:
    """The scorer for the configured mode, rebuilt only when the lexicon entries or the components change."""
    mode = mode or settings.SENTIMENT_LEXICON
    if mode == "plain":
        return _plain_scorer()
    return _incident_scorer(lexicon_version())


@lru_cache(maxsize=1)
def _plain_scorer() -> Scorer:
    return Scorer(layer=False)


@lru_cache(maxsize=1)
def _incident_scorer(version) -> Scorer:
    from incidents.models import Component
    from sentiment.models import LexiconEntry

    return Scorer(dict(LexiconEntry.objects.values_list("term", "valence")),
                  neutral=Component.objects.values_list("name", flat=True))
