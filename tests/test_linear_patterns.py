"""Every pattern run over text someone typed finishes on a megabyte of the input that is worst for it.

A pattern that backtracks over the rest of the text from every position is quadratic: 80 KB took minutes, and a
few such requests held every web worker (issue 16). These tests would not finish on such a pattern; a linear one
takes a fraction of a second for each input here. They check that it finishes and what it found, not the time."""

import pytest
from django.core.exceptions import ValidationError

from accounts.services import DOMAIN, HANDLE, clean_domains
from comms import lint, privacy, rendering
from core import patterns
from core.validators import web_url
from sentiment import linking
from sentiment.scoring import patterns as scoring

MEGABYTE = 1_000_000


def repeat(unit: str) -> str:
    """unit repeated to just over a megabyte."""
    return unit * (MEGABYTE // len(unit) + 1)


# The worst inputs for the shapes of pattern we have: a long run of one class with no end (a word without "@",
# "[[" without "]]", "{" without "}"), many starts of a match that never completes, and separators alone.
ADVERSARIAL = {
    "letters": repeat("a"),
    "open brackets": repeat("[["),
    "open braces": repeat("{a"),
    "braces": repeat("{"),
    "almost promises": repeat("will be fixed "),
    "url starts": repeat("http://"),
    "dots": repeat("."),
    "spaces": repeat(" "),
    "at signs": repeat("a@"),
    "almost blame": repeat("third-"),
    "almost outages": repeat("can"),
    "almost status questions": repeat("is a b c d e "),
    "line breaks": repeat("\n"),
    "unicode": repeat("é✓"),
}

PATTERNS = {
    "lint: time promises": lint.TIME_PROMISE_RE,
    "lint: blame": lint.BLAME_RE,
    "lint: thanks": lint.THANKS_RE,
    "lint: braced": lint._BRACED_RE,
    "rendering: urls": rendering.URL_RE,
    "rendering: placeholders": rendering.PLACEHOLDER_RE,
    "privacy: addresses": privacy.ADDRESS,
    "scoring: sentences": scoring.SENTENCE_RE,
    "scoring: words": scoring.WORD_RE,
    "scoring: time passing": scoring.TIME_PASSING_RE,
    "scoring: waited": scoring.WAITED_RE,
    "scoring: repeated": scoring.REPEATED_RE,
    "scoring: why": scoring.WHY_RE,
    "scoring: leading address": scoring.LEADING_ADDRESS_RE,
    "scoring: status question": scoring.STATUS_QUESTION_RE,
    "linking: outage words": linking.OUTAGE_WORDS,
    "patterns: a lexicon": patterns.any_of(["on hold", "still waiting", "cancelled", "a", "lost my data"]),
}


@pytest.mark.parametrize("name", PATTERNS)
@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_each_pattern_over_user_text_finishes_on_a_megabyte_of_its_worst_input(name, shape):
    text = ADVERSARIAL[shape]
    assert len(text) > MEGABYTE
    found = PATTERNS[name].findall(text)
    assert isinstance(found, list)


@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_guidance_is_found_and_removed_in_one_pass_over_a_megabyte(shape):
    text = ADVERSARIAL[shape]
    rendering.guidance_in(text)
    rendering.has_stray_guidance_mark(text)
    assert len(rendering.without_guidance(text)) <= len(text)


def test_a_megabyte_of_unclosed_guidance_marks_is_all_stray_and_nothing_is_removed():
    text = ADVERSARIAL["open brackets"]
    assert rendering.guidance_in(text) == []
    assert rendering.has_stray_guidance_mark(text)
    assert rendering.without_guidance("Keep this. " + text[:10]) == "Keep this. " + text[:10].strip()


def test_guidance_split_finds_what_the_old_pattern_found():
    text = "Before [[one]] middle [[two\nlines]] after [[unclosed"
    assert rendering.guidance_in(text) == ["one", "two lines"]
    assert rendering.has_stray_guidance_mark(text)
    assert rendering.without_guidance("We are [[say which region]] investigating.") == "We are investigating."


def test_addresses_are_still_hidden_and_a_megabyte_without_spaces_is_one_word():
    assert privacy.without_addresses("to ann@example.com and <bob@example.org>") == (
        "to [address hidden] and <[address hidden]>"
    )
    assert privacy.without_addresses("x/ann@example.com") == "[address hidden]"
    assert privacy.ADDRESS.findall(ADVERSARIAL["letters"]) == []
    assert len(privacy.ADDRESS.findall(ADVERSARIAL["at signs"])) == 1


def test_the_url_check_and_the_account_fields_finish_on_a_megabyte():
    accepted = []
    for shape, text in ADVERSARIAL.items():
        try:
            web_url("https://x.example/" + text, max_length=2 * MEGABYTE)
        except ValidationError:
            continue
        accepted.append(shape)
        assert not DOMAIN.match(text) and not HANDLE.match(text)
    # Whitespace around a URL is stripped; every other megabyte is refused (Django's URLValidator stops at 2,048).
    assert accepted == ["spaces", "line breaks"]
    with pytest.raises(ValidationError):
        clean_domains(ADVERSARIAL["dots"][:100_000])


@pytest.mark.django_db
def test_the_whole_lint_finishes_on_a_megabyte_part_and_finds_what_it_holds():
    from comms.models import Message
    from tests.factories import IncidentFactory

    text = ADVERSARIAL["almost promises"][:MEGABYTE] + " It will be fixed by 11:00. [[say which region]]"
    message = Message(incident=IncidentFactory(), headline="Payments", explain=text, phase="update")
    codes = {warning.code for warning in lint.lint_message(message)}
    assert {"time_promise", "guidance"} <= codes
