import re
from functools import lru_cache


def any_of(words) -> re.Pattern | None:
    """One case-insensitive pattern matching any of the words or phrases as whole words, longest first."""
    words = sorted({word for word in words if word}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=4096)
def any_of_these(words: tuple[str, ...]) -> re.Pattern | None:
    """any_of, kept for the few words a substring test found in one text (the same few come back again and again).

    Python's re tries every alternative at every position: a pattern of forty phrases cost 11 µs on a tweet, as
    long as VADER's scoring of it, while forty substring tests on the lower-cased text cost 1 µs."""
    return any_of(words)


def inflected(words) -> tuple[str, ...]:
    """The words with their regular English inflections, so that a keyword "cancel" also finds "cancels",
    "cancelled", "canceled" and "cancelling" (a whole-word match of "cancel" found none of them). Phrases and
    words with digits are kept as they are."""
    found: dict[str, None] = {}
    for word in words:
        found[word] = None
        if not word.isalpha() or len(word) < 3 or word.endswith(("ing", "ed")):
            continue
        stem = word[:-1] if word.endswith("e") else word
        forms = [word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s"), stem + "ed", stem + "ing"]
        short_or_l = word.endswith("l") or len(word) <= 4  # cancel → cancelled, ban → banned; not "lawyerred"
        if short_or_l and word[-1] not in "aeiouwxy" and word[-2] in "aeiou" and word[-3] not in "aeiou":
            forms += [word + word[-1] + "ed", word + word[-1] + "ing"]
        for form in forms:
            found[form] = None
    return tuple(found)
