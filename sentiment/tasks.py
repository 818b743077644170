"""Thin tasks: ids in, a service call; the database says what is left to do."""

from celery import shared_task

from sentiment import services


@shared_task(ignore_result=True)
def score_mentions(mention_ids: list[int]) -> int:
    """Right after ingest: score, flag and link a batch. Running it twice changes nothing."""
    return services.score_mentions(mention_ids)


@shared_task(ignore_result=True)
def score_stragglers() -> int:
    """Beat: send scoring tasks for mentions whose task was never sent or was lost."""
    return services.score_stragglers()


@shared_task(ignore_result=True)
def poll_x_searches() -> int:
    """Beat: poll every enabled X search that is due."""
    from sentiment.x_source import poll_due_searches

    return poll_due_searches()


@shared_task(ignore_result=True)
def poll_mastodon_searches() -> int:
    """Beat: poll every enabled Mastodon search (mentions, hashtags, keywords) that is due."""
    from sentiment.sources.mastodon import poll_due_searches

    return poll_due_searches()


@shared_task(ignore_result=True)
def poll_bluesky_searches() -> int:
    """Beat: poll every enabled Bluesky search (brand terms, mentions) that is due."""
    from sentiment.sources.bluesky import poll_due_searches

    return poll_due_searches()


@shared_task(ignore_result=True)
def poll_facebook_comments() -> int:
    """Beat: read the new comments on our Facebook page's posts, for each enabled search that is due."""
    from sentiment.sources.facebook import poll_due_searches

    return poll_due_searches()


@shared_task(ignore_result=True)
def poll_linkedin_comments() -> int:
    """Beat: read the new comments on our LinkedIn organization page's posts, for each enabled search that is due."""
    from sentiment.sources.linkedin import poll_due_searches

    return poll_due_searches()


@shared_task(ignore_result=True)
def check_negative_spikes() -> int:
    """Beat: alert support and communications leads once per negative spike on an incident."""
    from sentiment.trends import check_negative_spikes as check

    return check()


@shared_task(ignore_result=True)
def escalate_overdue_mentions() -> int:
    """Beat: tell the assignee (or support and communications leads) once about each flagged mention still waiting
    for an answer past its reply target."""
    from sentiment.overdue import escalate_overdue_mentions as escalate

    return escalate()


@shared_task(ignore_result=True)
def sample_spot_checks() -> int:
    """Beat, hourly: top up today's sample of unflagged mentions in the review queue (sentiment.quality)."""
    from sentiment.quality import sample_spot_checks as sample

    return sample()
