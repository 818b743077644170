"""One message, every channel: email (subject, text, HTML), status page entry, X, Mastodon and Bluesky posts,
webhook JSON.

X posts are kept to one post: the headline, then as much of Explain as fits, then a link to the status
page, never more than 280 weighted characters. The full text always lives on the status page.

Template text has two kinds of marks, and neither reaches customers as written:
- {placeholder}: a fact about the incident (PLACEHOLDERS), filled in when a message is made from a template.
- [[guidance]]: an instruction to the writer, e.g. "[[Describe any service credit offered, or delete this.]]".
  Double square brackets do not occur in prose and cannot be mistaken for a {placeholder}. Guidance is for
  the writer to replace: a message that still has any cannot be approved or published
  (comms.lint.approval_blockers), and every customer rendering below leaves it out as a second line of defence.
"""

import copy
import re
import unicodedata
from dataclasses import dataclass

import grapheme
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comms.models import EARS_PARTS, Message
from comms.sms_text import fit, gsm_friendly
from comms.sms_text import measure as sms_measure
from core.words import english_list
from incidents import cadence
from incidents.models import Incident

X_LIMIT = 280
X_URL_WEIGHT = 23
# Mastodon: 500 by default, or what the instance says (configuration.statuses.max_characters, cached by the channel);
# it counts grapheme clusters, every URL as 23. Bluesky: 300 grapheme clusters, links counted as written.
MASTODON_DEFAULT_LIMIT = 500
MASTODON_URL_WEIGHT = 23
MASTODON_LIMIT_CACHE_KEY = "comms:mastodon:max-characters"
BLUESKY_LIMIT = 300
# Facebook page posts hold 63,206 characters; LinkedIn commentary 3,000 (counted as stored, after the backslashes
# its "little text" format needs before reserved characters). Both carry the whole message, not only the headline.
FACEBOOK_LIMIT = 63_206
LINKEDIN_LIMIT = 3_000
LINKEDIN_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
URL_RE = re.compile(r"https?://\S+")
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
GUIDANCE_OPEN, GUIDANCE_CLOSE = "[[", "]]"
PLACEHOLDERS = {
    "incident_title": "the incident's title",
    "components": "the affected components, comma-separated",
    "status": "the incident's public status",
    "severity": "SEV1 … SEV4",
    "next_update": "when the next update is due, e.g. 14:30 UTC: filled in when the message goes out, with the "
                   "deadline the update cadence then tracks",
    "status_page_url": "the public status page link",
}

# twitter-text v3: these code point ranges weigh 1, everything else 2.
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_ZWJ = "\u200d"


def status_page_url() -> str:
    return settings.SITE_URL + reverse("status-page")


# Filled when the message goes out, not when it is drafted: the promise customers read is the deadline the cadence
# tracks from that moment (and the overdue reminder fires against it).
SEND_TIME_PLACEHOLDERS = frozenset({"next_update"})
NO_CADENCE_PROMISE = "as soon as we know more"


def placeholder_values(incident: Incident) -> dict[str, str]:
    """The values filled in when a message is made from a template (send-time placeholders stay)."""
    return {
        "incident_title": incident.title,
        "components": english_list([c.name for c in incident.components.all()]) or "our service",
        "status": incident.public_status_label.lower(),
        "severity": incident.severity,
        "status_page_url": status_page_url(),
    }


def promised_next_update(message: Message) -> str:
    """When customers are told the next update comes: the cadence's deadline fixed when the message went out, or,
    before it goes out, the deadline it would set if it went out now."""
    if message.dispatched_at is not None:
        due = message.promised_next_update_at
    else:
        due = cadence.next_due(message.incident.severity, timezone.now()) if message.incident.is_open else None
    # In the site's zone, as everything customers read: not in the zone of whoever previews it.
    site_zone = timezone.get_default_timezone()
    return timezone.localtime(due, site_zone).strftime("%H:%M %Z") if due else NO_CADENCE_PROMISE


def customer_text(message: Message, text: str) -> str:
    """A part of the message as customers read it: guidance left out, send-time placeholders filled in."""
    text = without_guidance(text)
    if "{next_update}" in text:
        text = text.replace("{next_update}", promised_next_update(message))
    return text


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER_RE.findall(text) if name not in PLACEHOLDERS})


def _split_guidance(text: str) -> tuple[list[str], list[str]]:
    """(the text outside guidance, in pieces; the guidance snippets): each "[[" up to the first "]]" after it.

    With str.find, in one pass: the pattern `\\[\\[(.*?)\\]\\]` it replaces tried every "[[" against the whole rest of
    the text, so 40 KB of "[[" without a "]]" took two minutes."""
    outside, snippets, position = [], [], 0
    while (start := text.find(GUIDANCE_OPEN, position)) >= 0:
        end = text.find(GUIDANCE_CLOSE, start + len(GUIDANCE_OPEN))
        if end < 0:
            break  # no "]]" after this "[[", so none after any later one either
        outside.append(text[position:start])
        snippets.append(text[start + len(GUIDANCE_OPEN):end])
        position = end + len(GUIDANCE_CLOSE)
    outside.append(text[position:])
    return outside, snippets


def guidance_in(text: str) -> list[str]:
    """The guidance snippets in text, in order, without their brackets and with whitespace collapsed."""
    return [" ".join(snippet.split()) for snippet in _split_guidance(text or "")[1]]


def has_stray_guidance_mark(text: str) -> bool:
    """A "[[" or "]]" left over once whole guidance is removed: guidance half deleted, or never closed."""
    rest = "".join(_split_guidance(text or "")[0])
    return GUIDANCE_OPEN in rest or GUIDANCE_CLOSE in rest


def without_guidance(text: str) -> str:
    """Text as customers may read it: guidance removed, with the spaces and blank lines it leaves tidied."""
    if GUIDANCE_OPEN not in (text or ""):
        return text
    text = "".join(_split_guidance(text)[0])
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _char_weight(char: str) -> int:
    point = ord(char)
    if char in ("\ufe0e", "\ufe0f") or 0x1F3FB <= point <= 0x1F3FF or unicodedata.combining(char):
        return 0  # variation selectors, skin tones and combining marks belong to the character before
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def x_weighted_length(text: str) -> int:
    """Length as X counts it: URLs 23, CJK and emoji 2, an emoji joined by ZWJ adds nothing more."""
    total = 0
    position = 0
    for match in URL_RE.finditer(text):
        total += _plain_weight(text[position : match.start()]) + X_URL_WEIGHT
        position = match.end()
    return total + _plain_weight(text[position:])


def _plain_weight(text: str) -> int:
    total, joined = 0, False
    for char in text:
        if char == _ZWJ:
            joined = True
            continue
        total += 0 if joined else _char_weight(char)
        joined = False
    return total


def _truncate_to_weight(text: str, limit: int) -> str:
    """The longest prefix of text (cut at a word if possible) whose weight, plus an ellipsis, fits."""
    if _plain_weight(text) <= limit:
        return text
    kept, weight = [], 0
    for char in text:
        weight += _char_weight(char)
        if weight > limit - 1:
            break
        kept.append(char)
    cut = "".join(kept)
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:—-") + "…"


def render_x_post(message: Message) -> str:
    link = status_page_url()
    text = customer_text(message, message.headline).strip()
    explain = customer_text(message, message.explain).strip()
    if explain:
        text = f"{text} — {explain}"
    text = " ".join(text.split())
    room = X_LIMIT - X_URL_WEIGHT - 1
    return f"{_truncate_to_weight(text, room)} {link}"


def mastodon_limit_cache_key() -> str:
    return f"{MASTODON_LIMIT_CACHE_KEY}:{settings.MASTODON_API_BASE_URL}"


def mastodon_limit() -> int:
    """The instance's limit as the Mastodon channel last read it, or Mastodon's default."""
    return cache.get(mastodon_limit_cache_key()) or MASTODON_DEFAULT_LIMIT


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it: grapheme clusters (the `grapheme` package, UAX #29), each URL 23."""
    total, position = 0, 0
    for match in URL_RE.finditer(text):
        total += grapheme.length(text[position : match.start()]) + MASTODON_URL_WEIGHT
        position = match.end()
    return total + grapheme.length(text[position:])


def bluesky_length(text: str) -> int:
    """Length as Bluesky counts it: grapheme clusters (the `grapheme` package, UAX #29), links as written."""
    return grapheme.length(text)


def _truncate_to_graphemes(text: str, limit: int) -> str:
    """The longest prefix of text (cut at a word if possible) of at most limit grapheme clusters, ellipsis included;
    never splits a cluster (an emoji with its skin tone, a letter with its accent)."""
    if grapheme.length(text, limit + 1) <= limit:
        return text
    cut = grapheme.slice(text, 0, max(limit - 1, 0))
    if " " in cut[len(cut) // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:—-") + "…"


def _social_text(message: Message) -> str:
    text = customer_text(message, message.headline).strip()
    explain = customer_text(message, message.explain).strip()
    return " ".join((f"{text} — {explain}" if explain else text).split())


def render_mastodon_post(message: Message, limit: int | None = None) -> str:
    """Headline — explain, cut to fit the instance's limit, then the status page link (which counts 23)."""
    room = (limit or mastodon_limit()) - MASTODON_URL_WEIGHT - 1
    return f"{_truncate_to_graphemes(_social_text(message), room)} {status_page_url()}"


def render_bluesky_post(message: Message) -> str:
    """Headline — explain, cut to fit 300 graphemes with the status page link written out after it."""
    link = status_page_url()
    room = BLUESKY_LIMIT - bluesky_length(link) - 1
    return f"{_truncate_to_graphemes(_social_text(message), room)} {link}"


SMS_STOP_NOTE = "Reply STOP to unsubscribe"


def render_sms(message: Message) -> str:
    """The page's name, headline - explain in GSM-7's plain punctuation, cut to SMS_MAX_SEGMENTS (comms.sms_text);
    then always the status page link and how to unsubscribe."""
    text = gsm_friendly(f"{settings.STATUS_PAGE_NAME}: {_social_text(message)}")
    return fit(text, f"\n{status_page_url()}\n{SMS_STOP_NOTE}", settings.SMS_MAX_SEGMENTS)


def long_post_text(message: Message) -> str:
    """The headline, then every EARS part customers read, a blank line between each."""
    parts = [customer_text(message, message.headline).strip(), *body_paragraphs(message)]
    return "\n\n".join(part for part in parts if part)


def facebook_length(text: str) -> int:
    return len(text)


def render_facebook_post(message: Message) -> str:
    """The whole message, then the status page link (also sent as the post's link, for its preview card)."""
    link = status_page_url()
    room = FACEBOOK_LIMIT - facebook_length(link) - 2
    text = long_post_text(message)
    if facebook_length(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n\n{link}"


def linkedin_commentary(text: str) -> str:
    """Text as LinkedIn's Posts API needs it ("little text" format): each reserved character after a backslash,
    or LinkedIn reads "(" or "@" as markup and drops what follows."""
    return LINKEDIN_RESERVED.sub(r"\\\1", text)


def linkedin_length(text: str) -> int:
    """Length as LinkedIn counts the commentary: characters, as stored (with its escapes)."""
    return len(linkedin_commentary(text))


def render_linkedin_post(message: Message) -> str:
    """The whole message cut to fit 3,000 characters (as stored), then the status page link. Readable text: the
    channel escapes it."""
    link = status_page_url()
    room = LINKEDIN_LIMIT - linkedin_length(link) - 2
    text = long_post_text(message)
    if linkedin_length(text) > room:  # the longest cut (in graphemes, at a word) whose escaped form fits
        low, high = 0, room
        while low < high:
            middle = (low + high + 1) // 2
            if linkedin_length(_truncate_to_graphemes(text, middle)) <= room:
                low = middle
            else:
                high = middle - 1
        text = _truncate_to_graphemes(text, low)
    return f"{text}\n\n{link}"


def link_facets(text: str) -> list[dict]:
    """Bluesky rich-text facets that make each http(s) link in text clickable. Offsets are UTF-8 byte offsets
    (app.bsky.richtext.facet), not character offsets: "é" before a link moves it by two."""
    facets = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        start = len(text[: match.start()].encode())
        facets.append({
            "index": {"byteStart": start, "byteEnd": start + len(url.encode())},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
        })
    return facets


def body_paragraphs(message: Message) -> list[str]:
    """The EARS parts customers read, guidance left out, empty ones skipped."""
    paragraphs = (customer_text(message, getattr(message, part)).strip() for part in EARS_PARTS)
    return [paragraph for paragraph in paragraphs if paragraph]


@dataclass
class Rendering:
    email_subject: str
    email_text: str
    email_html: str
    statuspage: dict
    x_post: str
    x_length: int
    webhook: dict
    slack: dict
    social: dict | None = None  # {"mastodon": {text, length, limit}, "bluesky", "facebook", "linkedin": …}: the
    # configured networks only

    def as_dict(self) -> dict:
        return {
            "email": {"subject": self.email_subject, "text": self.email_text, "html": self.email_html},
            "statuspage": self.statuspage,
            "x": {"text": self.x_post, "weighted_length": self.x_length, "limit": X_LIMIT},
            "webhook": self.webhook,
            "slack": self.slack,
            **(self.social or {}),
        }


def render_social(message: Message) -> dict:
    """Each configured network's post, its length as that network counts it, and its limit."""
    social = {}
    if settings.MASTODON_CONFIGURED:
        limit = mastodon_limit()
        post = render_mastodon_post(message, limit)
        social["mastodon"] = {"text": post, "length": mastodon_length(post), "limit": limit}
    if settings.BLUESKY_CONFIGURED:
        post = render_bluesky_post(message)
        social["bluesky"] = {"text": post, "length": bluesky_length(post), "limit": BLUESKY_LIMIT}
    if settings.FACEBOOK_CONFIGURED:
        post = render_facebook_post(message)
        social["facebook"] = {"text": post, "length": facebook_length(post), "limit": FACEBOOK_LIMIT}
    if settings.LINKEDIN_CONFIGURED:
        post = render_linkedin_post(message)
        social["linkedin"] = {"text": post, "length": linkedin_length(post), "limit": LINKEDIN_LIMIT}
    if settings.TWILIO_CONFIGURED:
        post = render_sms(message)
        size = sms_measure(post, settings.SMS_MAX_SEGMENTS)
        social["sms"] = {"text": post, "length": size.length, "limit": size.limit, "segments": size.segments,
                         "encoding": size.encoding}
    return social


def email_context(message: Message, unsubscribe_url: str | None) -> dict:
    incident = message.incident
    return {
        "message": message,
        "incident": incident,
        "paragraphs": body_paragraphs(message),
        "status": incident.public_status_label,
        "next_update": promised_next_update(message) if incident.is_open else None,
        "status_page_url": status_page_url(),
        "unsubscribe_url": unsubscribe_url,
    }


def render_email(message: Message, unsubscribe_url: str | None = None) -> tuple[str, str, str]:
    """Subject, text and HTML as plain strings: whoever shows them on a page must escape them."""
    context = email_context(message, unsubscribe_url)
    context["message"] = _without_guidance_copy(message)  # the email templates read message.headline
    subject = " ".join(render_to_string("comms/email/update-subject.txt", context).split())
    text = _plain(render_to_string("comms/email/update-body.txt", context))
    html = _plain(render_to_string("comms/email/update-body.html", context))
    return subject, text, html


def _without_guidance_copy(message: Message) -> Message:
    headline = customer_text(message, message.headline)
    if headline == message.headline:
        return message
    shown = copy.copy(message)
    shown.headline = headline
    return shown


def _plain(rendered) -> str:
    """render_to_string returns a SafeString; as a plain str it is escaped wherever it is displayed."""
    return str.__str__(rendered)


def render_webhook(message: Message, event: str = "message.published") -> dict:
    incident = message.incident
    return {
        "event": event,
        "incident": {
            "id": incident.pk,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.public_status,
            "components": [c.name for c in incident.components.all()],
        },
        "message": {
            "id": message.pk,
            "phase": message.phase,
            "audience": message.audience,
            "headline": customer_text(message, message.headline),
            **{part: customer_text(message, getattr(message, part)) for part in EARS_PARTS},
        },
        "status_page_url": status_page_url(),
    }


def slack_escape(text: str) -> str:
    """Text for Slack, which reads <…> as links and mentions (<!channel>, <https://…|label>) and & as the start of
    an entity: its three control characters as the entities Slack asks for, so people's words stay words."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_slack(message: Message) -> dict:
    """Every text field escaped (slack_escape); the only markup is ours: the bold first line and the status page
    link."""
    incident = message.incident
    headline = slack_escape(customer_text(message, message.headline))
    title = slack_escape(f"[{incident.severity} · {incident.public_status_label}] {incident.title}")
    text = f"*{title}*\n{headline}"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            *[{"type": "section", "text": {"type": "plain_text", "text": slack_escape(paragraph)}}
              for paragraph in body_paragraphs(message)],
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{status_page_url()}|Status page>"}]},
        ],
    }


def render_all(message: Message) -> Rendering:
    subject, text, html = render_email(message, unsubscribe_url=settings.SITE_URL + "/status/unsubscribe/…")
    x_post = render_x_post(message)
    return Rendering(
        email_subject=subject,
        email_text=text,
        email_html=html,
        statuspage={
            "title": customer_text(message, message.headline),
            "status": message.incident.public_status,
            "body": "\n\n".join(body_paragraphs(message)),
        },
        x_post=x_post,
        x_length=x_weighted_length(x_post),
        webhook=render_webhook(message),
        slack=render_slack(message),
        social=render_social(message),
    )
