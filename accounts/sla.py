"""The SLA credit calculator: from the month's uptime to a suggested service credit.

Monthly uptime = 100 × (1 − downtime / minutes in a 30-day month). The first tier of SLA_CREDIT_TIERS whose
uptime the month fell *below* gives the credit as a percentage of the month's fee (annual revenue / 12), and
SLA_CREDIT_CAP_PERCENT caps it. Arithmetic is in Decimal, so the tier boundaries are exact: 43 minutes of
downtime is 99.9005 % (no credit under the default table), 44 minutes is 99.898 % (10 %).
"""

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

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


def suggest_credit(monthly_fee: Decimal, downtime_minutes: int, currency: str = "") -> CreditSuggestion:
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
    )


def downtime_of(impact) -> int:
    """The impact's recorded downtime, or else how long the incident lasted (so far)."""
    if impact.downtime_minutes:
        return impact.downtime_minutes
    return int(impact.incident.age.total_seconds() // 60)


def suggest_for(impact) -> CreditSuggestion:
    account = impact.account
    return suggest_credit(account.monthly_fee, downtime_of(impact), account.currency)
