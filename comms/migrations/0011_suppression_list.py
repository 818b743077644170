from django.db import migrations, models


class Migration(migrations.Migration):
    """Soft bounces counted per subscriber; hard bounces and complaints go on core's suppression list."""

    dependencies = [("comms", "0010_maintenance_notices"), ("core", "0003_suppression")]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="soft_bounces",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Temporary delivery failures the email provider reported (full mailbox, busy server)."),
        ),
    ]
