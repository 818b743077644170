from django.db import migrations, models


class Migration(migrations.Migration):
    """The suppression list: addresses that bounced hard or complained, shared by every sender."""

    dependencies = [("core", "0002_preferences")]

    operations = [
        migrations.CreateModel(
            name="Suppression",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(help_text="Lower case.", max_length=254, unique=True)),
                ("reason", models.CharField(choices=[
                    ("bounced", "Hard bounce"), ("complained", "Spam complaint"), ("rejected", "Refused by the provider"),
                    ("unsubscribed", "Unsubscribed at the provider"), ("manual", "Suppressed by a person")],
                    max_length=12)),
                ("source", models.CharField(blank=True, help_text="The provider that reported it, or who did it.",
                                            max_length=40)),
                ("detail", models.CharField(blank=True, help_text="What the provider said.", max_length=500)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-created_at", "-id"],
                     "permissions": [("lift_suppression", "Can lift an email suppression")]},
        ),
    ]
