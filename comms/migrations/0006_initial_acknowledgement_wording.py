"""The initial acknowledgement read "{components} is not working", wrong for several components ("API and Payments
is not working"). An unedited default template gets the new wording; an edited one is left alone."""

from django.db import migrations

OLD = ("We are investigating reports that {components} is not working as it should. "
       "Our engineers are on it now.")
NEW = "We are investigating reports of problems with {components}. Our engineers are on it now."


def reword(apps, schema_editor):
    from comms.defaults import convert_unedited_templates

    convert_unedited_templates(apps, {"Initial acknowledgement": {"explain": (OLD, NEW)}})


def unreword(apps, schema_editor):
    from comms.defaults import convert_unedited_templates

    convert_unedited_templates(apps, {"Initial acknowledgement": {"explain": (NEW, OLD)}})


class Migration(migrations.Migration):
    dependencies = [("comms", "0005_message_written_under_status")]
    operations = [migrations.RunPython(reword, unreword)]
