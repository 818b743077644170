"""Sentiment over an incident's life, and negative-spike alerts.

The series puts the incident's linked, scored mentions in buckets (15 minutes by default) with volume,
mean compound and share negative, and marks every public message that went out, with the mean compound
in the hour before and the hour after it — so communications leads see whether an update helped.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q
from django.utils import timezone

from comms.choices import Audience
from core.notify import notify_people
from core.roles import COMMS_LEAD, SUPPORT
from incidents.choices import OPEN_STATUSES, TimelineKind
from incidents.models import Incident
from incidents.services import record
from sentiment.choices import Label
from sentiment.models import Mention, SentimentAlert

HOUR = timezone.timedelta(hours=1)


def incident_series(incident: Incident, bucket_minutes: int = 15, max_buckets: int | None = None) -> dict:
    """max_buckets: a long incident gets wider buckets (a multiple of bucket_minutes) rather than more of them."""
    start = incident.started_at
    end = (incident.resolved_at + timezone.timedelta(hours=settings.SENTIMENT_LINK_WINDOW_HOURS)
           if incident.resolved_at else timezone.now())
    end = min(end, timezone.now())
    count = max(int((end - start) / timezone.timedelta(minutes=bucket_minutes)) + 1, 1)
    if max_buckets and count > max_buckets:
        bucket_minutes *= -(-count // max_buckets)  # ceiling division
    bucket = timezone.timedelta(minutes=bucket_minutes)
    count = max(int((end - start) / bucket) + 1, 1)
    volume, total, negative = [0] * count, [0.0] * count, [0] * count
    rows = Mention.objects.filter(incident=incident, scored_at__isnull=False, posted_at__gte=start)
    for posted_at, compound, label in rows.values_list("posted_at", "compound", "label").iterator(5000):
        index = min(int((posted_at - start) / bucket), count - 1)
        volume[index] += 1
        total[index] += compound
        negative[index] += label == Label.NEGATIVE
    buckets = [
        {
            "start": (start + i * bucket).isoformat(),
            "volume": volume[i],
            "mean_compound": round(total[i] / volume[i], 4) if volume[i] else None,
            "share_negative": round(negative[i] / volume[i], 4) if volume[i] else None,
        }
        for i in range(count)
    ]
    return {
        "incident": incident.pk,
        "bucket_minutes": bucket_minutes,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "buckets": buckets,
        "markers": message_markers(incident),
    }


def message_markers(incident: Incident) -> list[dict]:
    """Every public message that went out, with mean compound an hour before and after it."""
    markers = []
    messages = list(
        incident.messages.filter(audience=Audience.PUBLIC, dispatched_at__isnull=False).order_by("dispatched_at")
    )
    if not messages:
        return markers
    windows = {}  # one aggregate query for every message's hour before and after
    for n, message in enumerate(messages):
        at = message.dispatched_at
        windows[f"before_{n}"] = Avg("compound", filter=Q(posted_at__gte=at - HOUR, posted_at__lt=at))
        windows[f"after_{n}"] = Avg("compound", filter=Q(posted_at__gte=at, posted_at__lt=at + HOUR))
    around = Mention.objects.filter(incident=incident, scored_at__isnull=False).aggregate(**windows)
    for n, message in enumerate(messages):
        at = message.dispatched_at
        before, after = around[f"before_{n}"], around[f"after_{n}"]
        markers.append({
            "at": at.isoformat(),
            "message": message.pk,
            "headline": message.headline,
            "mean_compound_hour_before": None if before is None else round(before, 4),
            "mean_compound_hour_after": None if after is None else round(after, 4),
            "change": None if before is None or after is None else round(after - before, 4),
        })
    return markers


def check_negative_spikes(now=None) -> int:
    """Open an alert (and notify, once) when negatives in the last hour reach SENTIMENT_SPIKE_FACTOR × the hourly
    rate of the 12 hours before (and at least SENTIMENT_SPIKE_MINIMUM); close it when they fall back."""
    now = now or timezone.now()
    window = timezone.timedelta(hours=settings.SENTIMENT_LINK_WINDOW_HOURS)
    incidents = Incident.objects.filter(Q(status__in=OPEN_STATUSES) | Q(resolved_at__gte=now - window))
    opened = 0
    for incident in incidents:
        counts = Mention.objects.filter(incident=incident, label=Label.NEGATIVE).aggregate(
            last_hour=Count("pk", filter=Q(posted_at__gt=now - HOUR, posted_at__lte=now)),
            before=Count("pk", filter=Q(posted_at__gt=now - 13 * HOUR, posted_at__lte=now - HOUR)),
        )
        baseline = max(counts["before"] / 12, 1.0)  # at least one an hour, so a quiet start is not a spike
        ratio = counts["last_hour"] / baseline
        spiking = counts["last_hour"] >= settings.SENTIMENT_SPIKE_MINIMUM and ratio >= settings.SENTIMENT_SPIKE_FACTOR
        open_alert = incident.sentiment_alerts.filter(ended_at__isnull=True).first()
        if spiking and open_alert is None:
            SentimentAlert.objects.create(incident=incident, ratio=ratio, negatives_last_hour=counts["last_hour"])
            _notify_spike(incident, counts["last_hour"], ratio)
            opened += 1
        elif not spiking and open_alert is not None:
            SentimentAlert.objects.filter(pk=open_alert.pk).update(ended_at=now)
    return opened


def _notify_spike(incident: Incident, negatives: int, ratio: float) -> None:
    text = (f"Negative mentions about {incident.severity} “{incident.title}” spiked: {negatives} in the last hour, "
            f"{ratio:.1f}× the usual rate.")
    people = list(
        get_user_model().objects.filter(is_active=True, groups__name__in=[SUPPORT, COMMS_LEAD]).exclude(email="")
        .values_list("email", flat=True).distinct()
    )
    url = settings.SITE_URL + "/mentions/?incident=" + str(incident.pk)
    failure = notify_people(f"Negative spike: {incident.title}", f"{text}\n\nReview them: {url}\n", people)
    outcome = f" Notified {len(people)} people." if failure is None else f" Notifying people failed: {failure}."
    record(incident, TimelineKind.NOTE, text + outcome, negatives=negatives, ratio=round(ratio, 2))
