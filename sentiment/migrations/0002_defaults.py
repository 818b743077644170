from django.db import migrations


def create_defaults(apps, schema_editor):
    from sentiment.defaults import create_default_rules_and_lexicon

    create_default_rules_and_lexicon(apps)


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
