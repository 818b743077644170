"""A maintenance window moves and its notice goes out through a real worker and beat on Redis, into a local SMTP
sink: each subscriber of its components once, however often the task runs."""

import pytest
from django.utils import timezone

from comms.choices import DeliveryStatus
from comms.maintenance import approval
from comms.models import Delivery, MaintenanceNotice
from incidents import maintenance as windows
from incidents.choices import ComponentStatus, MaintenanceState
from incidents.models import Component, Maintenance
from tests.comms.helpers import confirmed_subscribers
from tests.factories import ComponentFactory, UserFactory
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def test_beat_starts_a_due_window_and_its_notice_reaches_each_subscriber_once(start_worker, smtp_sink):
    author = UserFactory(username="author", role="Communications lead")
    approver = UserFactory(username="approver", role="Communications lead")
    api, billing = ComponentFactory(name="API"), ComponentFactory(name="Billing")
    confirmed_subscribers(20, components=[api])
    confirmed_subscribers(5, prefix="billing", components=[billing])  # not told: another component
    now = timezone.now()
    window = windows.create_maintenance(
        author=author, components=[api], title="Database upgrade", what="We upgrade the main database.",
        scheduled_for=now + timezone.timedelta(seconds=2), scheduled_until=now + timezone.timedelta(hours=1))
    approval.submit(window, actor=author)
    approval.approve(window, actor=approver)

    queue = f"maintenance-{window.pk}-{timezone.now():%H%M%S%f}"
    start_worker(queue=queue, beat=True, env={"EMAIL_HOST": smtp_sink.host, "EMAIL_PORT": str(smtp_sink.port),
                                              "EMAIL_USE_TLS": "false", "CELERY_QUEUE": queue})
    started = wait_until(lambda: MaintenanceNotice.objects.filter(kind="started").exists(), timeout=60)
    assert started, "beat did not start the window: " + str(Maintenance.objects.values_list("state", flat=True))
    delivered = wait_until(lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 20, timeout=60)
    assert delivered, str(list(Delivery.objects.values_list("recipient", "status", "last_error")))

    # Run it again, twice, as a second beat would: nothing more is sent.
    from comms.tasks import run_maintenance_windows

    for _ in range(2):
        run_maintenance_windows.apply_async(queue=f"{queue}.deliveries")
    wait_until(lambda: False, timeout=4)

    assert dict(smtp_sink.received) == {f"reader{n}@example.com": 1 for n in range(20)}
    assert Delivery.objects.count() == 20
    assert Maintenance.objects.get(pk=window.pk).state == MaintenanceState.IN_PROGRESS
    assert Component.objects.get(pk=api.pk).status == ComponentStatus.UNDER_MAINTENANCE
    assert Component.objects.get(pk=billing.pk).status == ComponentStatus.OPERATIONAL
