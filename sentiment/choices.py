from django.db import models

from core.statemachine import StateMachine


class Source(models.TextChoices):
    X = "x", "X"
    API = "api", "API"
    IMPORT = "import", "File import"
    EMAIL = "email", "Email"
    TICKET = "ticket", "Support ticket"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    FACEBOOK = "facebook", "Facebook"
    LINKEDIN = "linkedin", "LinkedIn"
    BLOG = "blog", "Blog or site comment"


class Label(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class ReviewState(models.TextChoices):
    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    RESPONDED = "responded", "Responded"
    ESCALATED = "escalated", "Escalated"
    DISMISSED = "dismissed", "Dismissed"


OPEN_REVIEW_STATES = (ReviewState.NEW, ReviewState.IN_REVIEW)


class DismissReason(models.TextChoices):
    """Why a reviewer dismissed a mention. With the review state it labels the flag (sentiment.quality): an answer
    given elsewhere means the mention needed one; "not negative" and "not about us" mean the flag was false."""

    NOT_NEGATIVE = "not_negative", "Not negative (a false flag)"
    NOT_ABOUT_US = "not_about_us", "Not about us, or spam"
    NO_ANSWER_NEEDED = "no_answer_needed", "Negative, but needs no answer"
    ALREADY_HANDLED = "already_handled", "Already answered elsewhere"


# A review that ends in one of these says the mention needed an answer (the outcome labels in sentiment.quality).
ANSWERED_STATES = (ReviewState.RESPONDED, ReviewState.ESCALATED)


class Priority(models.TextChoices):
    """How soon a flagged mention should be answered (sentiment.flagging.rank). The values sort alphabetically in
    order of urgency, so that the queue and the API order by the column itself (and its index)."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
REVIEW_MACHINE = StateMachine(
    "mention",
    {
        ReviewState.NEW: {ReviewState.IN_REVIEW, ReviewState.RESPONDED, ReviewState.ESCALATED, ReviewState.DISMISSED},
        ReviewState.IN_REVIEW: {
            ReviewState.IN_REVIEW,
            ReviewState.RESPONDED,
            ReviewState.ESCALATED,
            ReviewState.DISMISSED,
        },  # in review → in review: reassigned
        ReviewState.RESPONDED: {ReviewState.IN_REVIEW},  # reopened
        ReviewState.ESCALATED: {ReviewState.IN_REVIEW},
        ReviewState.DISMISSED: {ReviewState.IN_REVIEW},
    },
    dict(ReviewState.choices),
)


class RuleKind(models.TextChoices):
    COMPOUND_AT_MOST = "compound_at_most", "Compound score at or below"
    KEYWORDS = "keywords", "Contains a keyword"
    KEY_ACCOUNT = "key_account", "Author belongs to a key customer account"
    FOLLOWERS_AT_LEAST = "followers_at_least", "Author followers at least"
