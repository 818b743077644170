"""How long an SMS is, as the networks count it, and how to cut a text to a number of segments. Pure functions.

An SMS is sent in GSM-7 (3GPP TS 23.038, "GSM 03.38") when every character is in its basic set or its extension
table, otherwise in UCS-2 (UTF-16 code units):

- GSM-7: 160 septets in a single SMS; a basic character is one septet, an extension character (€ [ ] { } \\ ^ ~ |
  and form feed) is two (an escape, then the character). A long text is split into segments of 153 septets (the
  user data header takes the rest), and an escape pair is never split across two segments.
- UCS-2: 70 code units in a single SMS, 67 per segment of a long one. A character outside the Basic Multilingual
  Plane (most emoji) is a surrogate pair, two units, which is never split across two segments either.

Typographic punctuation that people type without noticing (’ “ ” – — … and no-break spaces) is not in GSM-7 and
would halve what fits; `gsm_friendly` swaps it for its plain form first.
"""

from dataclasses import dataclass

import grapheme

# The basic set, in code order (0x1B, the escape to the extension table, is left out: it is not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_SEGMENT = 70, 67

GSM7, UCS2 = "GSM-7", "UCS-2"

TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u200b": "",
})


def gsm_friendly(text: str) -> str:
    """text with curly quotes, dashes, the ellipsis and unusual spaces in their plain GSM-7 forms."""
    return text.translate(TYPOGRAPHIC)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def encoding(text: str) -> str:
    """GSM-7 if every character is in the GSM 03.38 basic set or extension table, else UCS-2."""
    return GSM7 if is_gsm7(text) else UCS2


def _units(char: str, gsm: bool) -> int:
    if gsm:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair


def length(text: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes."""
    gsm = is_gsm7(text)
    return sum(_units(char, gsm) for char in text)


def segment_count(text: str) -> int:
    """How many SMS the text is sent as (0 for an empty text)."""
    gsm = is_gsm7(text)
    single, per_segment = (GSM7_SINGLE, GSM7_SEGMENT) if gsm else (UCS2_SINGLE, UCS2_SEGMENT)
    if not text:
        return 0
    if sum(_units(char, gsm) for char in text) <= single:
        return 1
    segments, used = 1, 0
    for char in text:  # a character's units stay in one segment: an escape pair or a surrogate pair is not split
        units = _units(char, gsm)
        if used + units > per_segment:
            segments, used = segments + 1, 0
        used += units
    return segments


def capacity(segments: int, gsm: bool) -> int:
    """Units that fit in this many segments (ignoring the pairs that may not be split)."""
    if segments <= 1:
        return GSM7_SINGLE if gsm else UCS2_SINGLE
    return segments * (GSM7_SEGMENT if gsm else UCS2_SEGMENT)


@dataclass(frozen=True)
class SmsMeasure:
    length: int
    segments: int
    encoding: str
    limit: int  # units that fit in the segments allowed, in this encoding


def measure(text: str, max_segments: int) -> SmsMeasure:
    gsm = is_gsm7(text)
    return SmsMeasure(length(text), segment_count(text), GSM7 if gsm else UCS2, capacity(max_segments, gsm))


def fit(text: str, tail: str, max_segments: int) -> str:
    """text + tail in at most max_segments SMS, the tail always whole; text cut at a word where it can be and
    ended with an ellipsis ("..." in GSM-7, "…" when the SMS is UCS-2 anyway). The cut never splits a character
    cluster (an emoji with its skin tone, a letter with its accent). With no room at all for text, the tail alone.
    """
    text = " ".join(text.split())
    if segment_count(text + tail) <= max_segments:
        return text + tail

    def shortened(clusters: int) -> str:
        cut = grapheme.slice(text, 0, clusters)
        if " " in cut[len(cut) // 2 :]:
            cut = cut[: cut.rfind(" ")]
        cut = cut.rstrip(" ,;:-")
        if not cut:
            return ""
        return cut + ("..." if is_gsm7(cut + tail) else "…")

    low, high = 0, grapheme.length(text)  # the most clusters that fit lies in [low, high)
    while low < high - 1:
        middle = (low + high) // 2
        if segment_count(shortened(middle) + tail) <= max_segments:
            low = middle
        else:
            high = middle
    return shortened(low) + tail
