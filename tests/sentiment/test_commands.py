"""import_mentions and rescore_mentions, run through call_command on files in tmp_path."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from core.progress import Progress
from sentiment.models import LexiconEntry, Mention

pytestmark = pytest.mark.django_db

CSV = """external_id,text,posted_at,author_handle,author_name,author_followers,url,language,source
c-1,"Checkout is down, again.",2026-03-02T10:00:00Z,@dana,Dana,120,https://example.com/1,en,
c-2,"Payments work now, thanks",2026-03-02T11:00:00+01:00,sam,Sam,,,en,ticket
"""


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def test_a_good_csv_file_is_imported(tmp_path):
    path = tmp_path / "mentions.csv"
    path.write_text(CSV)

    out, err, error = run("import_mentions", str(path))

    assert error is None
    assert out.strip() == "2 created, 0 duplicates, 0 bad lines"
    dana = Mention.objects.get(external_id="c-1")
    assert (dana.source, dana.author_handle, dana.author_followers, dana.text) == (
        "import", "dana", 120, "Checkout is down, again.")
    sam = Mention.objects.get(external_id="c-2")
    assert (sam.source, sam.author_followers) == ("ticket", None)
    assert sam.posted_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert "Importing mentions.csv: 3/3" in err  # the progress line, on stderr


def test_an_imported_row_may_name_the_thread_it_answers(tmp_path):
    path = tmp_path / "replies.csv"
    path.write_text("external_id,text,posted_at,in_reply_to_id,in_reply_to_url\n"
                    "r-1,Still down,2026-03-02T10:00:00Z,ticket-41,https://help.example.com/tickets/41\n"
                    "r-2,Also down,2026-03-02T10:05:00Z,,\n")

    out, _, error = run("import_mentions", str(path))

    assert error is None and out.strip() == "2 created, 0 duplicates, 0 bad lines"
    assert dict(Mention.objects.values_list("external_id", "in_reply_to_url")) == {
        "r-1": "https://help.example.com/tickets/41", "r-2": ""}
    assert Mention.objects.get(external_id="r-1").in_reply_to_id == "ticket-41"


def test_a_good_jsonl_file_is_imported_with_the_source_given(tmp_path):
    path = tmp_path / "export.ndjson"
    lines = [
        {"external_id": "j-1", "text": "Status page is green but it's down", "posted_at": "2026-03-02T10:00:00Z",
         "author_followers": 5},
        {"external_id": "j-2", "text": "Works again", "posted_at": "2026-03-02T10:05:00Z"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")

    out, _, error = run("import_mentions", str(path), "--source", "email")

    assert error is None and out.strip() == "2 created, 0 duplicates, 0 bad lines"
    assert set(Mention.objects.values_list("external_id", "source", "author_followers")) == {
        ("j-1", "email", 5), ("j-2", "email", None)}


def test_bad_lines_are_reported_by_number_and_reason_and_the_good_ones_kept(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "external_id,text,posted_at\n"             # 1
        "ok-1,Checkout is down,2026-03-02T10:00Z\n"  # 2
        "bad-date,Checkout is down,yesterday\n"    # 3
        "\n"                                        # 4: blank, skipped
        "ok-2,Still down,2026-03-02T10:05Z\n"      # 5
        "too,many,columns,here\n"                  # 6
        ",no id,2026-03-02T10:06Z\n"               # 7
    )

    out, err, error = run("import_mentions", str(path))

    assert isinstance(error, CommandError) and "3 bad lines skipped" in str(error)
    assert out.strip() == "2 created, 0 duplicates, 3 bad lines"
    reported = [line for line in err.splitlines() if line.startswith("Line ")]
    assert reported == [
        "Line 3: posted_at must be an ISO 8601 date and time, e.g. 2026-11-23T12:30:00Z.",
        "Line 6: 4 columns where the header has 3",
        "Line 7: external_id is required (at most 100 characters).",
    ]
    assert set(Mention.objects.values_list("external_id", flat=True)) == {"ok-1", "ok-2"}


def test_a_jsonl_line_that_is_not_json_is_reported_too(tmp_path):
    path = tmp_path / "mentions.jsonl"
    path.write_text('{"external_id": "j-1", "text": "down", "posted_at": "2026-03-02T10:00:00Z"}\n'
                    '{"external_id": "j-2", "text": "down"\n'
                    '["not", "an", "object"]\n')

    out, err, error = run("import_mentions", str(path))

    assert error is not None
    assert "Line 2: not valid JSON: Expecting ',' delimiter (column 38)" in err
    assert "Line 3: Each item must be an object." in err
    assert out.strip() == "1 created, 0 duplicates, 2 bad lines"


def test_re_running_an_import_imports_nothing_twice(tmp_path):
    path = tmp_path / "mentions.csv"
    path.write_text(CSV + "c-1,The same id again,2026-03-02T12:00:00Z,,,,,,\n")

    first, _, _ = run("import_mentions", str(path))
    second, _, _ = run("import_mentions", str(path), "--format", "csv")

    assert first.strip() == "2 created, 1 duplicate, 0 bad lines"  # the repeated id within the file
    assert second.strip() == "0 created, 3 duplicates, 0 bad lines"
    assert Mention.objects.count() == 2


def test_an_unknown_column_or_format_is_refused_before_anything_is_imported(tmp_path):
    typo = tmp_path / "typo.csv"
    typo.write_text("external_id,text,posted_at,author_followrs\nx,y,2026-03-02T10:00Z,3\n")
    with pytest.raises(CommandError, match="unknown: author_followrs"):
        call_command("import_mentions", str(typo), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="Can't tell the format of mentions.txt"):
        call_command("import_mentions", str(tmp_path / "mentions.txt"))
    assert not Mention.objects.exists()


def test_rescoring_picks_up_a_lexicon_change(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SENTIMENT_LEXICON = "incident"
    path = tmp_path / "mentions.jsonl"
    path.write_text(json.dumps({"external_id": "m-1", "text": "The dashboard shows a spinner.",
                                "posted_at": "2026-03-02T10:00:00Z"}) + "\n")
    with django_capture_on_commit_callbacks(execute=True):
        run("import_mentions", str(path))
    mention = Mention.objects.get()
    assert mention.label == "neutral" and mention.compound == 0

    LexiconEntry.objects.create(term="spinner", valence=-3.5, note="the app hangs")
    out, _, error = run("rescore_mentions")

    assert error is None
    mention.refresh_from_db()
    assert mention.label == "negative" and mention.compound < -0.5
    assert out.strip() == "1 mention rescored; 1 flagged now."  # the default "Very negative" rule
    assert mention.flagged


def test_rescoring_only_unscored_mentions_leaves_scored_ones_alone(tmp_path):
    path = tmp_path / "mentions.csv"
    path.write_text(CSV)
    run("import_mentions", str(path))
    Mention.objects.filter(external_id="c-1").update(compound=0.99, label="positive", scored_at="2026-03-02T12:00Z")
    Mention.objects.filter(external_id="c-2").update(scored_at=None)  # as when scoring at ingest failed

    out, _, _ = run("rescore_mentions", "--only-unscored")

    assert out.startswith("1 mention rescored")
    assert Mention.objects.get(external_id="c-1").compound == 0.99
    assert Mention.objects.get(external_id="c-2").scored_at is not None


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_redraws_in_place_on_a_terminal_and_prints_tenths_elsewhere():
    now = [0.0]
    terminal, log = FakeTerminal(), io.StringIO()
    on_tty = Progress("Rows", 100, terminal, clock=lambda: now[0])
    elsewhere = Progress("Rows", 100, log, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] += 0.02  # 50 rows a second
        on_tty.update(done)
        elsewhere.update(done)
    on_tty.finish()
    elsewhere.finish()

    drawn = terminal.getvalue()
    assert 19 <= drawn.count("\r") <= 21  # at most 10 redraws a second over 2 seconds, plus the last one
    assert drawn.endswith("\r  Rows: 100/100 (50/s)\n") and drawn.count("\n") == 1
    assert log.getvalue().splitlines() == [f"  Rows: {n}/100 (50/s)" for n in range(10, 101, 10)]
