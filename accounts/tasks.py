"""Thin tasks: they call a service and let the database say what is left to do."""

from celery import shared_task

from accounts import reminders


@shared_task(ignore_result=True)
def remind_overdue_follow_ups() -> int:
    """Beat, every 5 minutes: email the owner of each overdue follow-up, once a day per task."""
    return reminders.remind_overdue_follow_ups()
