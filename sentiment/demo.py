"""Demo mentions, scored as they are stored (sentiment.ingest), so the review queue is not empty (core.demo)."""

from datetime import timedelta

from django.utils import timezone

from sentiment.defaults import create_default_rules_and_lexicon
from sentiment.ingest import ingest
from sentiment.models import XSearch

# text, author handle, followers, minutes ago
DEMO_MENTIONS = [
    ("@example payments are down again, our checkout is broken. I want a refund", "shopowner_ana", 850, 18),
    ("Payments failing for 20 minutes now, still waiting for an update", "dev_marco", 120, 14),
    ("If this keeps happening we are switching providers", "cto_lena", 23000, 11),
    ("Thanks for the quick acknowledgement @example, hope it's fixed soon", "happy_user", 40, 8),
    ("is example.com down for anyone else? API errors everywhere", "random_dev", 310, 6),
]


def demo_mentions(demo) -> str:
    create_default_rules_and_lexicon()
    now = timezone.now()
    items = [
        {"external_id": f"demo-{n}", "text": text, "author_handle": handle, "author_followers": followers,
         "posted_at": (now - timedelta(minutes=minutes)).isoformat(), "source": "x",
         "url": f"https://x.com/{handle}/status/{1850000000000000000 + n}"}
        for n, (text, handle, followers, minutes) in enumerate(DEMO_MENTIONS)
    ]
    results = ingest(items, default_source="x")
    created = [result.id for result in results if result.status == "created"]
    XSearch.objects.get_or_create(name="Brand mentions", defaults={"query": "@example OR example.com -is:retweet"})
    return f"{len(created)} new mentions"
