from django.db import migrations

# Shipped entries whose weight changed in round two: (term, old weight, new weight). An entry an admin edited (its
# weight is no longer the old shipped one) is kept as it is.
REWEIGHTED = [("🙃", -1.2, -1.6)]


def add_round_two(apps, schema_editor):
    """The second round of the customer-service vocabulary (issue 12) for databases made before it: service
    failures in plain words, billing, exasperation, VADER's own failure verbs and neutral "po box"; and its third
    round (things that do not work, "where are my", neutral "support", praise said with a negation); every shipped
    term or rule that is missing is created, entries that exist are kept, and unedited re-weighted ones updated."""
    from sentiment.defaults import create_default_rules_and_lexicon

    create_default_rules_and_lexicon(apps)
    LexiconEntry = apps.get_model("sentiment", "LexiconEntry")
    for term, old, new in REWEIGHTED:
        LexiconEntry.objects.filter(term=term, valence=old, note="shipped default").update(valence=new)


def restore_weights(apps, schema_editor):
    LexiconEntry = apps.get_model("sentiment", "LexiconEntry")
    for term, old, new in REWEIGHTED:
        LexiconEntry.objects.filter(term=term, valence=new, note="shipped default").update(valence=old)


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0007_review_outcomes")]
    operations = [migrations.RunPython(add_round_two, restore_weights)]
