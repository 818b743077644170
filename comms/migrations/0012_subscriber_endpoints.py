from django.db import migrations, models

import comms.models.delivery
import comms.models.endpoints


class Migration(migrations.Migration):
    dependencies = [("comms", "0011_suppression_list"), ("incidents", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="SubscriberEndpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("slack", "Slack"), ("teams", "Microsoft Teams"),
                                                   ("discord", "Discord"), ("webhook", "Webhook (signed JSON)")],
                                          max_length=8)),
                ("url", models.URLField(help_text="The webhook URL. For Slack and Discord the URL is the credential: "
                                                  "it is never shown in full.", max_length=500, unique=True)),
                ("secret", models.CharField(default=comms.models.delivery.new_token, editable=False,
                                            help_text="Generic webhooks: the key of the X-EARS-Signature HMAC, sent "
                                                      "in the verification message.", max_length=64)),
                ("confirm_code", models.CharField(default=comms.models.endpoints.new_code, editable=False,
                                                  max_length=16)),
                ("confirm_token", models.CharField(default=comms.models.delivery.new_token, editable=False,
                                                   max_length=64, unique=True)),
                ("unsubscribe_token", models.CharField(default=comms.models.delivery.new_token, editable=False,
                                                       max_length=64, unique=True)),
                ("requested_at", models.DateTimeField(help_text="When the subscription was last asked for: the code "
                                                                "expires ENDPOINT_CONFIRM_DAYS after it.")),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("test_sent_at", models.DateTimeField(blank=True, help_text="When the message carrying the code was "
                                                      "sent (claimed before sending).", null=True)),
                ("test_error", models.CharField(blank=True, help_text="Why the message carrying the code could not "
                                                "be delivered.", max_length=300)),
                ("consecutive_failures", models.PositiveIntegerField(
                    default=0, help_text="Permanent failures in a row (a deleted webhook: 404, 410); a success "
                                         "resets it.")),
                ("disabled_at", models.DateTimeField(blank=True, help_text="Set after "
                                                     "SUBSCRIBER_ENDPOINT_MAX_FAILURES permanent failures in a row: "
                                                     "nothing more is sent.", null=True)),
                ("disabled_reason", models.CharField(blank=True, max_length=300)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("components", models.ManyToManyField(blank=True, help_text="Only updates about these components; "
                                                      "none means all.", to="incidents.component")),
            ],
            options={
                "ordering": ["pk"],
                "indexes": [models.Index(fields=["confirmed_at", "disabled_at"], name="comms_subsc_confirm_b82247_idx")],
            },
        ),
    ]
