"""The SLA credit calculator: from the month's uptime to a suggested service credit.

The downtime is the impact's typed number if there is one, else it comes from the status history of the
components the account uses (incidents.history), else how long the incident lasted (downtime_with_source).
Monthly uptime = 100 × (1 − downtime / minutes in a 30-day month). The first tier of SLA_CREDIT_TIERS whose
uptime the month fell *below* gives the credit as a percentage of the month's fee (annual revenue / 12), and
SLA_CREDIT_CAP_PERCENT caps it. Arithmetic is in Decimal, so the tier boundaries are exact: 43 minutes of
downtime is 99.9005 % (no credit under the default table), 44 minutes is 99.898 % (10 %).
"""

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from incidents import history

MONTH_MINUTES = 30 * 24 * 60
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditSuggestion:
    downtime_minutes: int
    uptime_percent: Decimal
    tier_below: Decimal | None  # the tier the uptime fell below, None when no credit is due
    credit_percent: Decimal
    cap_percent: Decimal
    capped: bool
    monthly_fee: Decimal
    currency: str
    amount: Decimal
    downtime_source: str = "typed"  # DowntimeSource: typed, status_history or incident_duration

    @property
    def downtime_source_sentence(self) -> str:
        return SOURCE_SENTENCES[self.downtime_source]

    def as_dict(self) -> dict:
        return {key: (str(value) if isinstance(value, Decimal) else value) for key, value in asdict(self).items()}

    @property
    def summary(self) -> str:
        uptime = f"{self.uptime_percent.normalize():f}"
        if self.tier_below is None:
            return (f"{self.downtime_minutes} minutes down is {uptime}% uptime for the month: no SLA credit is "
                    "due under the tier table.")
        capped = f", capped at {_plain(self.cap_percent)}%" if self.capped else ""
        return (f"{self.downtime_minutes} minutes down is {uptime}% uptime, below {_plain(self.tier_below)}%: "
                f"{_plain(self.credit_percent)}% of the monthly fee of {self.monthly_fee:,.2f} {self.currency}{capped} "
                f"= {self.amount:,.2f} {self.currency}.")


def _exact(number: float) -> Decimal:
    """A setting's float as the Decimal people wrote: 99.9 → 99.9, 10.0 → 10."""
    value = Decimal(str(number))
    return Decimal(int(value)) if value == value.to_integral_value() else value


def _plain(number: Decimal) -> str:
    """99.0 → 99, 10.50 → 10.5: percentages as people write them."""
    return f"{number.normalize():f}"


def suggest_credit(monthly_fee: Decimal, downtime_minutes: int, currency: str = "",
                   downtime_source: str = "typed") -> CreditSuggestion:
    downtime = max(0, min(int(downtime_minutes), MONTH_MINUTES))
    uptime = (Decimal(100) * (1 - Decimal(downtime) / MONTH_MINUTES)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    exact_uptime = Decimal(100) * (1 - Decimal(downtime) / MONTH_MINUTES)
    tier_below, percent = None, Decimal(0)
    for threshold, credit in sorted(settings.SLA_CREDIT_TIERS, reverse=True):  # the lowest tier passed wins
        if exact_uptime < _exact(threshold):
            tier_below, percent = _exact(threshold), _exact(credit)
    cap = Decimal(settings.SLA_CREDIT_CAP_PERCENT)
    applied = min(percent, cap)
    amount = (monthly_fee * applied / 100).quantize(CENT, ROUND_HALF_UP)
    return CreditSuggestion(
        downtime_minutes=downtime, uptime_percent=uptime, tier_below=tier_below, credit_percent=applied,
        cap_percent=cap, capped=percent > cap, monthly_fee=monthly_fee, currency=currency, amount=amount,
        downtime_source=downtime_source,
    )


class DowntimeSource:
    TYPED = "typed"  # the impact's downtime_minutes, typed by hand: it overrides the facts
    STATUS_HISTORY = "status_history"  # the status history of the components the account uses
    INCIDENT_DURATION = "incident_duration"  # how long the incident lasted: the account names no components


def affected_components(impact) -> list:
    """The components the account uses that the incident affected; all the account uses when the incident
    names none of them (the account said it was hit, so something it uses was)."""
    used = list(impact.account.components.all())
    affected = {component.pk for component in impact.incident.components.all()}
    return [component for component in used if component.pk in affected] or used


def downtime_with_source(impact) -> tuple[int, str]:
    """The impact's downtime in whole minutes (rounded half up) and where it came from: a typed number first;
    else the status history of the account's components while the incident lasted (at each moment the worst of
    them, major outage fully, partial outage 0.3: incidents.uptime); else, for an account with no components,
    how long the incident lasted (so far)."""
    if impact.downtime_minutes:
        return impact.downtime_minutes, DowntimeSource.TYPED
    incident = impact.incident
    components = affected_components(impact)
    if components:
        end = incident.resolved_at if not incident.is_open and incident.resolved_at else timezone.now()
        minutes = history.weighted_down_minutes(components, incident.started_at, end)
        return int(minutes.to_integral_value(ROUND_HALF_UP)), DowntimeSource.STATUS_HISTORY
    return int(incident.age.total_seconds() // 60), DowntimeSource.INCIDENT_DURATION


def downtime_of(impact) -> int:
    return downtime_with_source(impact)[0]


SOURCE_SENTENCES = {
    DowntimeSource.TYPED: "Downtime as typed on the impact.",
    DowntimeSource.STATUS_HISTORY: "Downtime from the status history of the components the account uses while the "
    "incident lasted (major outage counts fully, partial outage 30%); type a number on the impact to override it.",
    DowntimeSource.INCIDENT_DURATION: "Downtime is how long the incident lasted: the account names no components; "
    "type a number on the impact to override it.",
}


def suggest_for(impact) -> CreditSuggestion:
    account = impact.account
    minutes, source = downtime_with_source(impact)
    return suggest_credit(account.monthly_fee, minutes, account.currency, downtime_source=source)
