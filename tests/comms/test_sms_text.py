"""SMS length arithmetic (comms.sms_text): GSM-7 septets and UCS-2 units, segments, and cutting to fit."""

import pytest

from comms import sms_text
from comms.sms_text import GSM7, UCS2, encoding, fit, gsm_friendly, length, segment_count

TAIL = "\nhttps://status.example.com/status/\nReply STOP to unsubscribe"


def test_plain_text_is_gsm7_and_counts_one_septet_a_character():
    assert encoding("Checkout is failing @ £5 é ñ Ü ¿¡ §") == GSM7
    assert length("Hello") == 5


@pytest.mark.parametrize("character", ["€", "[", "]", "{", "}", "\\", "^", "~", "|", "\f"])
def test_each_gsm_extension_character_counts_two_septets(character):
    assert encoding(character) == GSM7
    assert length(f"a{character}b") == 4


def test_160_septets_are_one_sms_and_161_are_two():
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2  # 2 × 153
    assert segment_count("a" * 307) == 3


def test_extension_characters_fill_a_single_sms_twice_as_fast():
    assert segment_count("€" * 80) == 1
    assert segment_count("€" * 81) == 2


def test_an_escape_pair_is_never_split_across_two_segments():
    # 152 septets, then € (2): 154 would split it, so € opens the second segment; 153 + 153 per segment after that.
    assert segment_count("a" * 152 + "€" + "b" * 152) == 3
    assert segment_count("a" * 153 + "€" + "b" * 151) == 2


def test_an_emoji_forces_ucs2_and_the_limits_become_70_and_67():
    text = "Checkout is back 🎉"
    assert encoding(text) == UCS2
    assert segment_count("a" * 69 + "é") == 1  # é is GSM-7
    assert segment_count("a" * 70) == 1
    assert segment_count("ą" * 70) == 1  # ą is not GSM-7: UCS-2, 70 fit
    assert segment_count("ą" * 71) == 2
    assert segment_count("ą" * 134) == 2
    assert segment_count("ą" * 135) == 3


def test_a_character_outside_the_bmp_counts_two_ucs2_units_and_is_never_split():
    assert length("😀") == 2
    assert segment_count("😀" * 35) == 1  # 70 units
    assert segment_count("😀" * 36) == 2
    # 134 units would be exactly two segments of 67, but after 66 units the pair would be split: it opens the second
    # segment, which then holds 68 units, one too many.
    assert segment_count("ą" * 66 + "😀" + "ą" * 66) == 3
    assert segment_count("ą" * 65 + "😀" + "ą" * 67) == 2


def test_a_character_outside_gsm7_turns_the_whole_text_to_ucs2():
    assert length("a" * 100) == 100 and segment_count("a" * 100) == 1
    assert segment_count("a" * 100 + "ł") == 2  # 101 units: over 70


def test_an_empty_text_is_no_sms():
    assert segment_count("") == 0


def test_typographic_punctuation_is_swapped_for_its_gsm7_form():
    text = gsm_friendly("We’re “on it” – fixed soon… really")
    assert text == 'We\'re "on it" - fixed soon... really'
    assert encoding(text) == GSM7


def test_a_text_that_fits_is_kept_whole_with_the_tail():
    assert fit("Checkout is failing", TAIL, 1) == "Checkout is failing" + TAIL


@pytest.mark.parametrize("max_segments", [1, 2, 3, 5])
def test_a_long_text_is_cut_at_a_word_to_the_segments_allowed_and_keeps_the_tail(max_segments):
    text = "Payments fail at checkout for some cards while we work on it. " * 30
    sms = fit(text, TAIL, max_segments)
    assert sms.endswith("..." + TAIL)
    assert segment_count(sms) <= max_segments
    assert segment_count(sms) == max_segments  # as much as fits, not less
    body = sms[: -len(TAIL) - 3]
    assert text.startswith(body) and text[len(body)] == " "  # cut between words


def test_a_ucs2_text_is_cut_with_a_single_character_ellipsis():
    text = "Zahlungen schlagen fehl 😞 " * 20
    sms = fit(text, TAIL, 2)
    assert sms.endswith("…" + TAIL)
    assert encoding(sms) == UCS2 and segment_count(sms) <= 2


def test_cutting_never_splits_an_emoji_with_its_skin_tone():
    text = "👍🏽" * 200
    sms = fit(text, TAIL, 1)
    body = sms[: -len(TAIL) - 1]
    assert body == "👍🏽" * (len(body) // 2)
    assert segment_count(sms) == 1


def test_a_tail_that_leaves_no_room_is_sent_alone():
    assert fit("Some words here", TAIL, 1) == "Some words here" + TAIL
    long_tail = "\n" + "x" * 158
    assert fit("Some words here", long_tail, 1) == long_tail


def test_the_gsm7_tables_have_the_standard_sizes():
    assert len(sms_text.GSM7_BASIC) == 127  # 128 codes less the escape
    assert len(sms_text.GSM7_EXTENSION) == 10
