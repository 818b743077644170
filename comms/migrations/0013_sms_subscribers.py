"""Status page subscribers by SMS (comms.models.sms, comms.sms): opted in by a code sent to the number, STOP/START."""

from django.db import migrations, models

import comms.models.delivery


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0012_subscriber_endpoints"),
        ("incidents", "0006_maintenance_windows"),
    ]

    operations = [
        migrations.CreateModel(
            name="SmsSubscriber",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone", models.CharField(help_text="E.164, e.g. +447700900123.", max_length=16, unique=True)),
                ("confirmed_at", models.DateTimeField(blank=True, help_text="When the code was typed back.",
                                                      null=True)),
                ("opted_out_at", models.DateTimeField(blank=True, help_text="When the number replied STOP.",
                                                      null=True)),
                ("code_hash", models.CharField(blank=True, editable=False, max_length=64)),
                ("code_sent_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("code_attempts", models.PositiveSmallIntegerField(default=0, editable=False)),
                ("verify_token", models.CharField(default=comms.models.delivery.new_token, editable=False,
                                                  max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("components", models.ManyToManyField(
                    blank=True, help_text="Only updates about these; none means all.", related_name="sms_subscribers",
                    to="incidents.component")),
            ],
            options={
                "verbose_name": "SMS subscriber",
                "ordering": ["pk"],
                "indexes": [models.Index(fields=["confirmed_at", "code_sent_at"], name="sms_subscriber_pending")],
            },
        ),
    ]
