"""Who may do what to which account: the object-level half of the permissions (the role half is core.roles).

- Account managers edit the accounts they own, and the impacts, follow-ups and compensation on them (or on
  impacts they own); any account manager and communications lead reads everything; support reads only.
- Anyone who may add impacts (communications leads, account managers) may identify an affected account on
  any incident: triage is incident-wide, and the new impact belongs to the account's owner.
- Compensation is approved by a communications lead who did not propose it once the impact's compensation, the
  one being approved included and declined or withdrawn ones left out, adds up to more than
  COMPENSATION_APPROVAL_LIMIT: splitting a credit into small ones does not avoid the lead.
- Admins (superusers) may do everything.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied


def may_edit_account(user, account) -> bool:
    return user.is_superuser or (user.has_perm("accounts.change_account") and account.owner_id == user.pk)


def may_work_impact(user, impact) -> bool:
    if user.is_superuser:
        return True
    return user.has_perm("accounts.change_impact") and user.pk in (impact.owner_id, impact.account.owner_id)


def check_edit_account(user, account) -> None:
    if not may_edit_account(user, account):
        raise PermissionDenied(f"Only the owner of {account} (or an admin) may change it.")


def check_work_impact(user, impact) -> None:
    if not may_work_impact(user, impact):
        raise PermissionDenied(
            f"Only the owner of {impact.account} or of this impact (or an admin) may work on it."
        )


def check_complete_follow_up(user, follow_up) -> None:
    """Whoever works the impact, or the account manager the follow-up was given to."""
    if follow_up.owner_id == user.pk and (user.is_superuser or user.has_perm("accounts.change_followup")):
        return
    check_work_impact(user, follow_up.impact)


def is_account_manager(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("accounts.change_impact"))


def check_assign(user, account, owner) -> None:
    """An impact belongs to the account's owner unless that owner, a lead or an admin gives it to someone else:
    recording an affected account must not hand another manager's customer to oneself."""
    if owner is None or owner.pk == account.owner_id:
        return
    if user.is_superuser or user.pk == account.owner_id or user.has_perm("accounts.approve_compensation"):
        return
    raise PermissionDenied(f"Only the owner of {account}, a communications lead or an admin may give its impact to "
                           "someone else.")


def check_identify(user) -> None:
    if not user.has_perm("accounts.add_impact"):
        raise PermissionDenied("Only communications leads and account managers record affected accounts.")


def needs_lead_approval(compensation) -> bool:
    """The impact's counted compensation, this one included, adds up to more than the limit."""
    return compensation.approval_total() > settings.COMPENSATION_APPROVAL_LIMIT


def above_limit_text(compensation) -> str:
    """Why a lead approves it: the limit and, when only the sum is above it, what the sum comes to."""
    text = (f"Compensation worth more than {settings.COMPENSATION_APPROVAL_LIMIT:,} {compensation.currency} is "
            "approved by a communications lead.")
    if compensation.value <= settings.COMPENSATION_APPROVAL_LIMIT:
        text += (f" With this one, {compensation.impact.account}'s compensation for this incident comes to "
                 f"{compensation.approval_total():,.2f} {compensation.currency}.")
    return text


def check_approve(user, compensation) -> None:
    """Above the limit (the impact's sum, see needs_lead_approval): a communications lead (or admin) who did not
    propose it. At or below: whoever works the impact, the proposer included."""
    if needs_lead_approval(compensation):
        if not user.has_perm("accounts.approve_compensation"):
            raise PermissionDenied(above_limit_text(compensation))
        if compensation.proposed_by_id == user.pk:
            raise PermissionDenied("The person who proposed this compensation cannot approve it; ask another lead.")
        return
    if not user.has_perm("accounts.approve_compensation"):
        check_work_impact(user, compensation.impact)
