from django.db import migrations, models


class Migration(migrations.Migration):
    """Review outcomes as labels (a dismissal says why) and the daily spot-check of unflagged mentions."""

    dependencies = [("sentiment", "0006_mention_priority")]

    operations = [
        migrations.AddField(
            model_name="mention",
            name="dismiss_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_negative", "Not negative (a false flag)"),
                    ("not_about_us", "Not about us, or spam"),
                    ("no_answer_needed", "Negative, but needs no answer"),
                    ("already_handled", "Already answered elsewhere"),
                ],
                help_text="Set when dismissed: labels the flag as true or false.",
                max_length=16,
            ),
        ),
        migrations.AddField(model_name="mention", name="spot_check", field=models.BooleanField(default=False)),
        migrations.AddField(
            model_name="mention",
            name="spot_checked_at",
            field=models.DateTimeField(blank=True, help_text="When the spot-check sampled it.", null=True),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(condition=models.Q(("spot_check", True)), fields=["spot_checked_at"],
                               name="mention_spot_check"),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(condition=models.Q(("reviewed_at__isnull", False)), fields=["reviewed_at"],
                               name="mention_reviewed"),
        ),
    ]
