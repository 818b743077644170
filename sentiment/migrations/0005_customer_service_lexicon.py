from django.db import migrations


def add_new_defaults(apps, schema_editor):
    """The customer-service vocabulary (issue 12) for databases made before it: every shipped term or rule that is
    missing is created; entries that exist, edited or not, are kept as they are."""
    from sentiment.defaults import create_default_rules_and_lexicon

    create_default_rules_and_lexicon(apps)


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0004_free_text_limits")]
    operations = [migrations.RunPython(add_new_defaults, migrations.RunPython.noop)]
