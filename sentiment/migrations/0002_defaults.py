from django.db import migrations


def create_defaults(apps, schema_editor):
    from sentiment.flagging import DEFAULT_RULES
    from sentiment.lexicon import DEFAULT_LEXICON

    LexiconEntry = apps.get_model("sentiment", "LexiconEntry")
    FlagRule = apps.get_model("sentiment", "FlagRule")
    for term, valence in DEFAULT_LEXICON.items():
        LexiconEntry.objects.get_or_create(term=term, defaults={"valence": valence, "note": "shipped default"})
    for rule in DEFAULT_RULES:
        fields = dict(rule)
        FlagRule.objects.get_or_create(name=fields.pop("name"), defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0001_mentions")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
