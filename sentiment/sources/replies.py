"""Answering a mention where it was posted: on X, Mastodon, Bluesky, a Facebook page or a LinkedIn page, through the
channel of that network.

sentiment.review.respond(post_to_x=True) asks here which channel posts the reply and whether it may (the network
is configured, the reply fits, the mention says what to answer). The reply itself is a Delivery with in_reply_to =
reply_target(mention): the mention's external id, or for LinkedIn the post and comment URNs the source kept
(network_ref).
"""

from django.core.exceptions import ValidationError

from comms.channels import get_transport
from comms.rendering import (
    BLUESKY_LIMIT,
    X_LIMIT,
    bluesky_length,
    mastodon_length,
    mastodon_limit,
    x_weighted_length,
)
from sentiment.choices import Source

REPLY_CHANNELS = {Source.X: "x", Source.MASTODON: "mastodon", Source.BLUESKY: "bluesky", Source.FACEBOOK: "facebook",
                  Source.LINKEDIN: "linkedin"}
FACEBOOK_COMMENT_LIMIT = 8_000
LINKEDIN_COMMENT_LIMIT = 1_250
NEEDS_NETWORK_REF = frozenset({Source.LINKEDIN})  # the external id alone does not say where to answer


def reply_channel(mention) -> str:
    return REPLY_CHANNELS[mention.source]


def reply_target(mention) -> str:
    """What the reply's delivery answers (its in_reply_to); "" when the mention does not say."""
    return mention.network_ref if mention.source in NEEDS_NETWORK_REF else mention.external_id


def network_name(mention) -> str:
    return mention.get_source_display()


def check_reply(mention, text: str) -> None:
    """ValidationError (on post_to_x or text) when the reply cannot be posted where the mention was."""
    if mention.source not in REPLY_CHANNELS:
        raise ValidationError({"post_to_x": "Only a mention that came from X, Mastodon, Bluesky, Facebook or LinkedIn "
                                            "can be answered where it was posted."})
    transport = get_transport(reply_channel(mention))
    if not transport.is_configured():
        raise ValidationError({"post_to_x": transport.not_configured_reason()})
    if not reply_target(mention):
        raise ValidationError({"post_to_x": f"This {network_name(mention)} mention was stored without what a reply "
                                            "needs (the post and comment it is on): answer it on the network itself."})
    limit, unit = reply_limit(mention.source)
    length = _LENGTH[mention.source](text)
    if length > limit:
        raise ValidationError({"text": f"A reply on {network_name(mention)} holds {limit} {unit}; this has {length}."})


_LENGTH = {Source.X: x_weighted_length, Source.MASTODON: mastodon_length, Source.BLUESKY: bluesky_length,
           Source.FACEBOOK: len, Source.LINKEDIN: len}


def reply_limit(source: str) -> tuple[int, str]:
    """How long a reply on the network of this source may be, and in what unit the network counts."""
    if source == Source.X:
        return X_LIMIT, "weighted characters"
    if source == Source.MASTODON:
        return mastodon_limit(), "characters"
    if source == Source.FACEBOOK:
        return FACEBOOK_COMMENT_LIMIT, "characters"
    if source == Source.LINKEDIN:
        return LINKEDIN_COMMENT_LIMIT, "characters"
    return BLUESKY_LIMIT, "characters"


def reply_options() -> dict[str, dict]:
    """For the review pages, per source that can be answered where it was posted: the network's name, whether its
    channel is configured (or the sentence saying what to set), and how long a reply may be."""
    options = {}
    for source, channel in REPLY_CHANNELS.items():
        transport = get_transport(channel)
        limit, unit = reply_limit(source)
        options[source] = {"network": Source(source).label, "configured": transport.is_configured(),
                           "reason": transport.not_configured_reason(), "limit": limit, "unit": unit}
    return options
