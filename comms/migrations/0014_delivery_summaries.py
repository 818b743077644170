import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Retention: the counts of the delivery rows that were summarised and deleted (comms.retention)."""

    dependencies = [("comms", "0013_sms_subscribers")]

    operations = [
        migrations.CreateModel(
            name="DeliverySummary",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("channel", models.CharField(max_length=16)),
                ("status", models.CharField(choices=[
                    ("queued", "Queued"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed"),
                    ("skipped", "Skipped")], max_length=8)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("summarised_at", models.DateTimeField(auto_now=True)),
                ("message", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                              related_name="delivery_summaries", to="comms.message")),
            ],
            options={"verbose_name_plural": "delivery summaries"},
        ),
        migrations.AddConstraint(
            model_name="deliverysummary",
            constraint=models.UniqueConstraint(fields=("message", "channel", "status"), name="one_summary_per_status"),
        ),
    ]
