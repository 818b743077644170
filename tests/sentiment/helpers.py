from django.utils import timezone

from sentiment.models import Mention


def mention(text="acme is down", *, minutes_ago=5, **fields) -> Mention:
    defaults = {
        "source": "x",
        "external_id": f"{Mention.objects.count() + 1}-{abs(hash(text)) % 10**8}",
        "posted_at": timezone.now() - timezone.timedelta(minutes=minutes_ago),
        "author_handle": "customer",
    }
    return Mention.objects.create(text=text, **{**defaults, **fields})
