from django.db import migrations


def create_templates(apps, schema_editor):
    from comms.defaults import create_default_templates

    create_default_templates(apps)


class Migration(migrations.Migration):
    dependencies = [("comms", "0001_initial")]
    operations = [migrations.RunPython(create_templates, migrations.RunPython.noop)]
