"""The PostgreSQL path of ingest inserts with raw SQL: it must name every column the table requires."""

import pytest
from django.utils import timezone

from sentiment.assessment import ASSESSED_FIELDS
from sentiment.ingest import INSERTED_FIELDS, clean_item, ingest, row_defaults
from sentiment.models import Mention

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("assessed", [True, False], ids=["scored", "unscored"])
def test_the_raw_insert_names_every_required_column_of_a_mention_scored_or_not(assessed):
    required = {field.name for field in Mention._meta.concrete_fields if not field.null and not field.primary_key}
    scored = ASSESSED_FIELDS if assessed else []

    assert required - {*INSERTED_FIELDS, *scored, *row_defaults(timezone.now(), assessed=assessed)} == set()


def test_an_ingested_mention_has_no_dismiss_reason_and_is_not_a_spot_check():
    [result] = ingest([{"source": "api", "external_id": "cols-1", "text": "checkout is down",
                        "posted_at": "2026-11-23T10:00:00Z"}])

    mention = Mention.objects.get(pk=result.id)
    assert result.status == "created" and mention.dismiss_reason == "" and mention.spot_check is False


def test_each_cleaned_item_carries_every_column_the_raw_insert_names():
    bare = clean_item({"external_id": "cols-2", "text": "down", "posted_at": "2026-11-23T10:00:00Z"}, "api")

    assert set(INSERTED_FIELDS) <= set(bare)  # the PostgreSQL path reads row[name] for each of them
    assert (bare["in_reply_to_id"], bare["in_reply_to_url"], bare["network_ref"]) == ("", "", "")
