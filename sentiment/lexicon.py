"""The incident vocabulary shipped with the product (VADER valence: −4 … +4). Editable in the admin.

Plain VADER reads “your API is down again” and “thinking about switching after this outage” as neutral
and “refund please” as positive; these terms correct that. Phrases (with spaces) are matched as a whole.
"""

DEFAULT_LEXICON = {
    # outages and failures
    "outage": -2.5, "outages": -2.5, "down": -1.6, "downtime": -2.2, "not working": -2.2, "doesn't work": -2.2,
    "does not work": -2.2, "unusable": -2.6, "unreachable": -2.0, "unavailable": -1.6, "errors": -1.5,
    "error": -1.3, "crashing": -2.0, "crashed": -2.0, "timeout": -1.5, "timeouts": -1.5, "500": -1.2,
    "broken again": -2.8, "down again": -2.8, "yet again": -1.5, "again?": -1.2,
    # waiting
    "still waiting": -2.0, "waiting": -0.9, "hours": -0.3, "no update": -1.8, "no updates": -1.8,
    "radio silence": -2.2, "any update": -1.0, "eta?": -1.0,
    # cancelling, refunds, switching providers
    "cancel": -2.0, "cancelling": -2.2, "canceling": -2.2, "cancellation": -1.8, "refund": -1.8,
    "refunds": -1.8, "money back": -2.0, "chargeback": -2.4, "switching": -1.8, "switch to": -1.8,
    "moving to": -1.4, "migrating away": -2.2, "alternatives": -1.4, "competitor": -1.2, "leaving": -1.6,
    "churn": -1.8, "not renewing": -2.6,
    # legal threats
    "lawsuit": -3.0, "lawyer": -2.6, "lawyers": -2.6, "sue": -2.8, "suing": -2.8, "legal action": -3.0,
    "breach of contract": -3.0, "sla breach": -2.6,
    # data loss
    "data loss": -3.2, "lost data": -3.2, "lost my data": -3.4, "lost our data": -3.4, "corrupted": -2.6,
    "wiped": -2.4, "deleted my": -2.2,
    # sarcasm that VADER reads as praise
    "thanks for nothing": -2.8, "great job breaking": -2.8,
}
