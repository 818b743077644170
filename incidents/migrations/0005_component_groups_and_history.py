import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import core.db

COMPONENT_STATUSES = [
    ("operational", "Operational"),
    ("degraded_performance", "Degraded performance"),
    ("partial_outage", "Partial outage"),
    ("major_outage", "Major outage"),
    ("under_maintenance", "Under maintenance"),
]


def history_from_timelines(apps, schema_editor):
    """The status changes incidents made before history was kept are on their timelines ("X changed from … to …",
    data {component, old, new}); a component whose status differs from the last of those was edited directly
    at some time not recorded: that change is dated its last update, with the status before it not known."""
    TimelineEntry = apps.get_model("incidents", "TimelineEntry")
    Component = apps.get_model("incidents", "Component")
    ComponentStatusChange = apps.get_model("incidents", "ComponentStatusChange")
    known = {component.pk: component for component in Component.objects.all()}
    last: dict[int, str] = {}
    rows = []
    entries = TimelineEntry.objects.filter(kind="components", data__has_key="component").order_by("at", "id")
    for entry in entries.iterator():
        component_id, old, new = entry.data.get("component"), entry.data.get("old"), entry.data.get("new")
        if component_id not in known or new not in dict(COMPONENT_STATUSES):
            continue
        rows.append(ComponentStatusChange(
            component_id=component_id, from_status=old if old in dict(COMPONENT_STATUSES) else "", to_status=new,
            at=entry.at, cause="incident", incident_id=entry.incident_id, actor_id=entry.actor_id,
        ))
        last[component_id] = new
    for component in known.values():
        if component.pk in last and last[component.pk] != component.status:
            rows.append(ComponentStatusChange(
                component_id=component.pk, from_status="", to_status=component.status, at=component.updated_at,
                cause="direct_edit",
            ))
    ComponentStatusChange.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_free_text_limits"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ComponentGroup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("description", core.db.BoundedTextField(blank=True, max_length=2000)),
                ("position", models.PositiveIntegerField(
                    default=0, help_text="Lower numbers come first on the status page.")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["position", "name"]},
        ),
        migrations.AddField(
            model_name="component",
            name="group",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="components",
                to="incidents.componentgroup",
                help_text="Shown inside this group on the status page; empty for a component on its own.",
            ),
        ),
        migrations.CreateModel(
            name="ComponentStatusChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("from_status", models.CharField(
                    blank=True, choices=COMPONENT_STATUSES, max_length=32,
                    help_text="Empty when the status before is not known (history recorded from this change on).")),
                ("to_status", models.CharField(choices=COMPONENT_STATUSES, max_length=32)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("cause", models.CharField(
                    choices=[("incident", "Incident"), ("direct_edit", "Direct edit"), ("maintenance", "Maintenance")],
                    max_length=16)),
                ("actor", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                    to=settings.AUTH_USER_MODEL)),
                ("component", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="status_changes",
                    to="incidents.component")),
                ("incident", models.ForeignKey(
                    blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                    related_name="component_status_changes", to="incidents.incident")),
            ],
            options={
                "ordering": ["at", "id"],
                "indexes": [models.Index(fields=["component", "at"], name="incidents_c_compone_634fae_idx")],
            },
        ),
        migrations.RunPython(history_from_timelines, migrations.RunPython.noop),
    ]
