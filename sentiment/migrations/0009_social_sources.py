from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0008_lexicon_round_two")]
    operations = [
        migrations.CreateModel(
            name="SocialSearch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("network", models.CharField(choices=[("mastodon", "Mastodon"), ("bluesky", "Bluesky")],
                                             max_length=8)),
                ("kind", models.CharField(choices=[("mentions", "Mentions of our account"), ("hashtag", "Hashtag"),
                                                   ("keywords", "Keyword search")], default="mentions",
                                          max_length=8)),
                ("query", models.CharField(blank=True, help_text="The hashtag (without #) or the words to search "
                                           "for; empty for mentions.", max_length=300)),
                ("enabled", models.BooleanField(default=True)),
                ("interval_seconds", models.PositiveIntegerField(default=60)),
                ("cursor", models.CharField(blank=True, help_text="Mastodon: the newest id read. Bluesky: the newest "
                                            "time indexed.", max_length=200)),
                ("pending_cursor", models.CharField(blank=True, max_length=500)),
                ("pending_newest", models.CharField(blank=True, max_length=200)),
                ("status", models.CharField(choices=[("ok", "OK"), ("waiting", "Waiting for the rate limit"),
                                                     ("failing", "Failing"), ("not_configured", "Not configured")],
                                            default="ok", max_length=16)),
                ("last_error", models.TextField(blank=True)),
                ("last_polled_at", models.DateTimeField(blank=True, null=True)),
                ("next_poll_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "Mastodon or Bluesky search",
                "verbose_name_plural": "Mastodon and Bluesky searches",
                "ordering": ["network", "name"],
            },
        ),
        migrations.AlterField(
            model_name="mention",
            name="source",
            field=models.CharField(choices=[("x", "X"), ("api", "API"), ("import", "File import"), ("email", "Email"),
                                            ("ticket", "Support ticket"), ("mastodon", "Mastodon"),
                                            ("bluesky", "Bluesky")], max_length=8),
        ),
    ]
