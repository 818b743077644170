"""Small pieces of English for sentences built from data."""


def english_list(names: list[str]) -> str:
    """'API', 'API and Payments', 'API, Payments and Webhooks'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def with_article(phrase: str) -> str:
    """'an update', 'an initial acknowledgement', 'a resolution' (by the first letter: good enough for our own
    labels; 'a user' would need a word list)."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def one_line(text: str, limit: int = 200) -> str:
    """Text fit for an email header: every run of whitespace (line breaks and Unicode separators included) one
    space, at most `limit` characters. Names from data (a mention's handle, an account's name) reach subjects, and
    a line break there was a header injection, refused by Django with BadHeaderError."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
