import re


def any_of(words) -> re.Pattern | None:
    """One case-insensitive pattern matching any of the words or phrases as whole words, longest first."""
    words = sorted({word for word in words if word}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)", re.IGNORECASE)
