"""Facebook and LinkedIn page comments (SocialSearch: networks and the "comments" kind), blog and site comments
(CommentSite), and the three new mention sources."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sentiment", "0009_social_sources")]
    operations = [
        migrations.CreateModel(
            name="CommentSite",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("url", models.URLField(blank=True, help_text="The site's address, for people reading the queue.")),
                ("enabled", models.BooleanField(default=True)),
                ("token_key", models.CharField(editable=False, max_length=12, unique=True)),
                ("token_digest", models.CharField(editable=False, max_length=64)),
                ("hmac_secret", models.CharField(blank=True, editable=False, help_text="Shared secret for the "
                                                 "X-Signature header; empty: signatures are not accepted.",
                                                 max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_received_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "blog or site sending comments",
                "verbose_name_plural": "blogs and sites sending comments",
                "ordering": ["name"],
            },
        ),
        migrations.AlterModelOptions(
            name="socialsearch",
            options={"ordering": ["network", "name"], "verbose_name": "social network search",
                     "verbose_name_plural": "social network searches"},
        ),
        migrations.AlterField(
            model_name="mention",
            name="source",
            field=models.CharField(choices=[("x", "X"), ("api", "API"), ("import", "File import"), ("email", "Email"),
                                            ("ticket", "Support ticket"), ("mastodon", "Mastodon"),
                                            ("bluesky", "Bluesky"), ("facebook", "Facebook"), ("linkedin", "LinkedIn"),
                                            ("blog", "Blog or site comment")], max_length=8),
        ),
        migrations.AlterField(
            model_name="socialsearch",
            name="cursor",
            field=models.CharField(blank=True, help_text="Mastodon: the newest id read. Bluesky, Facebook, LinkedIn: "
                                   "the newest time read.", max_length=200),
        ),
        migrations.AlterField(
            model_name="socialsearch",
            name="kind",
            field=models.CharField(choices=[("mentions", "Mentions of our account"), ("hashtag", "Hashtag"),
                                            ("keywords", "Keyword search"),
                                            ("comments", "Comments on our page's posts")],
                                   default="mentions", max_length=8),
        ),
        migrations.AlterField(
            model_name="socialsearch",
            name="network",
            field=models.CharField(choices=[("mastodon", "Mastodon"), ("bluesky", "Bluesky"),
                                            ("facebook", "Facebook page"), ("linkedin", "LinkedIn page")],
                                   max_length=8),
        ),
    ]
