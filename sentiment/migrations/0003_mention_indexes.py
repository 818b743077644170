"""The mention indexes, partial so that each stored mention costs two index entries, not nine.

Not atomic, so that on PostgreSQL they build concurrently (`CREATE INDEX CONCURRENTLY`) while mentions keep
arriving; elsewhere they are plain indexes. New indexes on a busy table get a migration like this one.
"""

from django.db import migrations, models

from core.db import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("sentiment", "0002_defaults")]

    operations = [
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('flagged', True)), fields=['review_state', '-posted_at'], name='mention_queue')),
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('flagged', True)), fields=['compound'], name='mention_queue_negative')),
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('incident__isnull', False)), fields=['incident', 'posted_at'], name='mention_incident')),
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('account__isnull', False)), fields=['account', 'incident', 'label'], name='mention_account')),
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('assignee__isnull', False)), fields=['assignee'], name='mention_assignee')),
        AddIndexConcurrently(model_name='mention', index=models.Index(condition=models.Q(('scored_at__isnull', True)), fields=['received_at'], name='mention_unscored')),
    ]
