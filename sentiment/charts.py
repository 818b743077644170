"""The incident's sentiment chart as ready-made coordinates and texts: sentiment/_chart.html draws it as inline SVG
on the server (no script). The template tag sentiment_chart (sentiment.templatetags.sentiment_tags) feeds it."""

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 18, 34
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
BUCKET_MINUTES = 15
MAX_BUCKETS = 288  # three days of 15-minute bars; a longer incident gets wider buckets (a multiple of 15 minutes)
TICK_MINUTES = (15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)
MAX_TICKS = 8


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def _score(value) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 4, 6, 8 × 10ⁿ at or above value, so that half of it is a whole number too."""
    if value <= 1:
        return 1
    power = 10 ** int(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def _clock(moment: datetime, with_day: bool = False) -> str:
    return f"{moment:%b} {moment.day}, {moment:%H:%M}" if with_day else f"{moment:%H:%M}"


def _trend(change) -> str:
    if change is None or change == 0:
        return "unchanged"
    return "improved" if change > 0 else "worsened"


def time_ticks(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, str]]:
    """Round local times between start and end, at most MAX_TICKS of them; a tick on a new day shows the date."""
    span = (end - start).total_seconds() / 60
    # Beyond a week apart, ticks are whole days far enough apart for MAX_TICKS: an incident dated in the year 1
    # once drew a tick for every week since then (a 16 MB page).
    minutes = next((m for m in TICK_MINUTES if span / m <= MAX_TICKS), 1440 * math.ceil(span / 1440 / MAX_TICKS))
    step = timedelta(minutes=minutes)
    local = start.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    moment = midnight + step * math.ceil((local - midnight) / step)
    ticks, day = [], None
    while moment <= end:
        ticks.append((moment, _clock(moment, with_day=moment.date() != day and (day is not None or span > 1440))))
        day = moment.date()
        moment += step
    return ticks


def chart(series: dict, title: str) -> dict:
    """Everything _chart.html draws, as ready-made coordinates and texts."""
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.fromisoformat(series["start"])
    bucket = timedelta(minutes=series["bucket_minutes"])
    buckets = series["buckets"]
    count = len(buckets)
    end = start + count * bucket
    slot = PLOT_WIDTH / count
    total = sum(b["volume"] for b in buckets)
    if not total:
        return {"unscored": True}

    def x_at(moment: datetime) -> float:
        return LEFT + (moment - start) / (end - start) * PLOT_WIDTH

    def y_of(compound: float) -> float:
        return TOP + (1 - compound) / 2 * PLOT_HEIGHT

    top_volume = _nice_ceiling(max(b["volume"] for b in buckets))
    gap = min(1.0, slot * 0.15)
    bars, points = [], []
    for index, b in enumerate(buckets):
        begins = (start + index * bucket).astimezone(tz)
        when = f"{_clock(begins)}–{_clock(begins + bucket)}"
        if b["volume"]:
            height = b["volume"] / top_volume * PLOT_HEIGHT
            bars.append({
                "x": _fmt(LEFT + index * slot + gap / 2), "y": _fmt(TOP + PLOT_HEIGHT - height),
                "width": _fmt(max(slot - gap, 0.5)), "height": _fmt(height),
                "title": f"{when}: {b['volume']} mention{'s' if b['volume'] != 1 else ''}, "
                         f"mean compound {_score(b['mean_compound'])}",
            })
        if b["mean_compound"] is not None:
            points.append({"x": LEFT + (index + 0.5) * slot, "y": y_of(b["mean_compound"]), "at": begins,
                           "value": b["mean_compound"], "title": f"{when}: mean compound {_score(b['mean_compound'])}"})

    markers = []
    for number, marker in enumerate(series["markers"], start=1):
        at = datetime.fromisoformat(marker["at"])
        before, after, change = (marker["mean_compound_hour_before"], marker["mean_compound_hour_after"],
                                 marker["change"])
        sent = at.astimezone(tz)
        change_text = "no change measurable" if change is None else f"{change:+.2f}"
        markers.append({
            "number": number,
            "message": marker["message"],
            "url": reverse("message-detail", args=[marker["message"]]),
            "headline": marker["headline"],
            "sent": sent,
            "before": _score(before), "after": _score(after), "change": change_text if change is not None else "n/a",
            "trend": _trend(change),
            "x": _fmt(x_at(at)) if start <= at <= end else None,
            "title": f"{number}. {marker['headline']} (sent {_clock(sent, with_day=True)}): "
                     f"mean compound {_score(before)} → {_score(after)} ({change_text})",
        })

    lowest = min(points, key=lambda p: p["value"])
    overall = sum(b["mean_compound"] * b["volume"] for b in buckets if b["volume"]) / total
    local_start, local_end = start.astimezone(tz), min(end, datetime.fromisoformat(series["end"])).astimezone(tz)
    zone = local_start.tzname()
    summary = (
        f"Customer sentiment for “{title}”: {total} mention{'s' if total != 1 else ''} from "
        f"{_clock(local_start, with_day=True)} to {_clock(local_end, with_day=True)} {zone} in "
        f"{series['bucket_minutes']}-minute buckets; mean compound {overall:+.2f} overall, lowest "
        f"{lowest['value']:+.2f} at {_clock(lowest['at'])}; {len(markers)} public message"
        f"{'s' if len(markers) != 1 else ''} marked."
    )
    baseline = TOP + PLOT_HEIGHT
    return {
        "width": WIDTH, "height": HEIGHT,
        "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": baseline,
        "summary": summary,
        "zone": zone,
        "bucket_minutes": series["bucket_minutes"],
        "total": total,
        "bars": bars,
        "points": [{**p, "x": _fmt(p["x"]), "y": _fmt(p["y"])} for p in points],
        "line": " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in points),
        "markers": markers,
        "compound_ticks": [
            {"y": _fmt(y_of(value)), "label": f"{value:+g}" if value else "0", "zero": value == 0}
            for value in (1, 0.5, 0, -0.5, -1)
        ],
        "volume_ticks": [
            {"y": _fmt(baseline - value / top_volume * PLOT_HEIGHT), "label": f"{value:,}"}
            for value in sorted({0, top_volume // 2, top_volume})
        ],
        "time_ticks": [{"x": _fmt(x_at(moment)), "label": label} for moment, label in time_ticks(start, end, tz)],
        "label_y": baseline + 16,
        "axis_y": _fmt(TOP + PLOT_HEIGHT / 2),
        "volume_label_x": LEFT - 30,
        "compound_label_x": WIDTH - RIGHT + 32,
    }
