"""Default templates: instructions to the writer become [[guidance]], which cannot be approved or published.

The old and new texts are written out here, not read from comms.defaults, so this migration keeps doing the
same thing when the defaults change later. A field whose text is no longer exactly the old default was edited
by someone and is left alone; on a new database 0002 already creates the new text and this changes nothing.
"""

from django.db import migrations

CONVERSIONS = {
    "Resolution": {
        "resolve": (
            "Service is fully restored. Describe here any service credit or other compensation offered. "
            "Thank you for your patience.",
            "Service is fully restored. [[Describe any service credit or other compensation offered, "
            "or delete this if there is none.]] Thank you for your patience.",
        ),
    },
    "Post-incident review": {
        "explain": (
            "Summarise what customers experienced and for how long.",
            "[[Summarise what customers experienced and for how long.]]",
        ),
        "study": (
            "What happened: … Why it happened: … What we are changing so it does not happen again: …",
            "What happened: [[what failed, and what customers saw]] "
            "Why it happened: [[the cause, in plain words]] "
            "What we are changing so it does not happen again: [[each change, and when it will be done]]",
        ),
    },
}


def mark_guidance(apps, schema_editor):
    from comms.defaults import convert_unedited_templates

    convert_unedited_templates(apps, CONVERSIONS)


def unmark_guidance(apps, schema_editor):
    from comms.defaults import convert_unedited_templates

    backwards = {
        name: {field: (new, old) for field, (old, new) in fields.items()} for name, fields in CONVERSIONS.items()
    }
    convert_unedited_templates(apps, backwards)


class Migration(migrations.Migration):
    dependencies = [("comms", "0002_default_templates")]
    operations = [migrations.RunPython(mark_guidance, unmark_guidance)]
