"""Scoring, flagging and linking of stored mentions, in batches (run by the worker right after ingest)."""

from django.db import transaction
from django.utils import timezone

from sentiment.flagging import RuleSet
from sentiment.linking import IncidentLinker, find_account
from sentiment.models import Mention
from sentiment.scoring import get_scorer

SCORED_FIELDS = ["neg", "neu", "pos", "compound", "label", "scored_at", "flagged", "flag_reasons", "incident"]


def score_mentions(mention_ids, *, rescore: bool = False) -> int:
    """Score, flag and link these mentions (only unscored ones unless rescore). Returns how many."""
    mentions = Mention.objects.filter(pk__in=mention_ids)
    if not rescore:
        mentions = mentions.filter(scored_at__isnull=True)
    mentions = list(mentions.only("pk", "text", "posted_at", "author_followers", "author_handle", "incident_id"))
    if not mentions:
        return 0
    scorer, rules = get_scorer(), RuleSet()
    linker = IncidentLinker(min(m.posted_at for m in mentions), max(m.posted_at for m in mentions))
    now = timezone.now()
    for mention in mentions:
        scores = scorer.score(mention.text)
        mention.neg, mention.neu, mention.pos, mention.compound = scores.neg, scores.neu, scores.pos, scores.compound
        mention.label = scores.label
        mention.scored_at = now
        if mention.incident_id is None:
            mention.incident = linker.incident_for(mention.text, mention.posted_at)
        account, is_key = find_account(mention)
        mention.flag_reasons = rules.reasons(mention, key_account_name=str(account) if is_key else None)
        mention.flagged = bool(mention.flag_reasons)
    with transaction.atomic():
        Mention.objects.bulk_update(mentions, SCORED_FIELDS, batch_size=500)
    return len(mentions)
