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
