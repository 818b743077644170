"""The suppression list, shared by every sender: status updates, account messages, staff notifications.

An address on it is never emailed again — until its owner opts in afresh (a status page subscriber confirming a new
subscription lifts it), or a communications lead lifts it by hand. Addresses compare in lower case: providers report
them as they please, and nobody runs two mailboxes that differ only in case.
"""

from collections.abc import Iterable

from core.models import Suppression


def key(address: str) -> str:
    return (address or "").strip().lower()


def suppressed_addresses() -> frozenset[str]:
    """The whole list, for a fan-out or a batch: it holds the addresses that bounced or complained, which stays small
    beside the recipients (one query, instead of one per recipient)."""
    return frozenset(Suppression.objects.values_list("address", flat=True).iterator(5000))


def without_suppressed(addresses: Iterable[str]) -> list[str]:
    addresses = list(addresses)
    if not addresses:
        return []
    blocked = set(Suppression.objects.filter(address__in={key(a) for a in addresses}).values_list("address", flat=True))
    return [address for address in addresses if key(address) not in blocked]


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=key(address)).exists()


def suppress(address: str, reason: str, *, source: str = "", detail: str = "") -> tuple[Suppression, bool]:
    """Put an address on the list (the first reason stays; a complaint outranks a bounce). Returns (row, created)."""
    row, created = Suppression.objects.get_or_create(
        address=key(address), defaults={"reason": reason, "source": source[:40], "detail": detail[:500]})
    if not created and reason == Suppression.Reason.COMPLAINT and row.reason != reason:
        row.reason, row.source, row.detail = reason, source[:40], detail[:500]
        row.save(update_fields=["reason", "source", "detail"])
    return row, created


def lift(address: str) -> bool:
    deleted, _ = Suppression.objects.filter(address=key(address)).delete()
    return bool(deleted)
