"""Maintenance windows and their timeline (issue 13, scheduled maintenance)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.db


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0005_component_groups_and_history'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Maintenance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=200)),
                ('what', core.db.BoundedTextField(help_text='What: the work, plainly.', max_length=5000)),
                ('why', core.db.BoundedTextField(blank=True, help_text='Why it is done.', max_length=5000)),
                ('customer_impact', core.db.BoundedTextField(blank=True, help_text='What customers will notice while it lasts.', max_length=5000)),
                ('customer_action', core.db.BoundedTextField(blank=True, help_text='What customers should do, if anything.', max_length=5000)),
                ('internal_notes', core.db.BoundedTextField(blank=True, help_text='Internal only; never shown publicly.', max_length=20000)),
                ('scheduled_for', models.DateTimeField(help_text='When the work starts.')),
                ('scheduled_until', models.DateTimeField(help_text='When the work is expected to end.')),
                ('state', models.CharField(choices=[('scheduled', 'Scheduled'), ('in_progress', 'In progress'), ('verifying', 'Verifying'), ('completed', 'Completed'), ('cancelled', 'Cancelled')], default='scheduled', max_length=16)),
                ('needs_verification', models.BooleanField(default=False, help_text='At its end, wait in verifying until a lead completes it (else it completes).')),
                ('four_eyes', models.BooleanField(default=False, help_text='Another communications lead must approve it: not one who wrote or changed it.')),
                ('approval', models.CharField(choices=[('draft', 'Draft'), ('submitted', 'Submitted for approval'), ('approved', 'Approved')], default='draft', editable=False, max_length=16)),
                ('rejection_reason', models.CharField(blank=True, editable=False, max_length=500)),
                ('submitted_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('approved_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('published_at', models.DateTimeField(blank=True, editable=False, help_text='When it was first approved, and so first shown publicly.', null=True)),
                ('schedule_version', models.PositiveIntegerField(default=0, editable=False, help_text='How many times it was rescheduled; each time its notices start over.')),
                ('rescheduled_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('started_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('verifying_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('completed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('cancelled_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('components_before', models.JSONField(blank=True, default=dict, editable=False, help_text="Each affected component's status when the window started ({id: status}), restored at its end.")),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('approver', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('components', models.ManyToManyField(blank=True, related_name='maintenances', to='incidents.component')),
            ],
            options={
                'ordering': ['scheduled_for', 'id'],
            },
        ),
        migrations.CreateModel(
            name='MaintenanceEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('kind', models.CharField(choices=[('created', 'Created'), ('edited', 'Edited'), ('approval', 'Approval'), ('state', 'State changed'), ('components', 'Component status'), ('notice', 'Notice')], max_length=16)),
                ('description', models.CharField(max_length=500)),
                ('data', models.JSONField(blank=True, default=dict)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('maintenance', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='timeline', to='incidents.maintenance')),
            ],
            options={
                'ordering': ['at', 'id'],
            },
        ),
        migrations.AddIndex(
            model_name='maintenance',
            index=models.Index(fields=['state', 'scheduled_for'], name='incidents_m_state_cf9e4c_idx'),
        ),
        migrations.AddIndex(
            model_name='maintenance',
            index=models.Index(fields=['state', 'scheduled_until'], name='incidents_m_state_71f634_idx'),
        ),
    ]
