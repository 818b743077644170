"""Flag rules, configured in the admin. Every rule that matches adds a reason to the mention."""


from core.patterns import found_in
from sentiment.choices import RuleKind
from sentiment.models import FlagRule

DEFAULT_RULES = [
    {"name": "Very negative", "kind": RuleKind.COMPOUND_AT_MOST, "threshold": -0.5},
    {"name": "Churn, refund or legal words", "kind": RuleKind.KEYWORDS,
     "keywords": ["cancel", "cancelling", "refund", "chargeback", "lawsuit", "lawyer", "sue", "switching",
                  "moving to", "not renewing", "data loss", "lost data"]},
    {"name": "Key customer account", "kind": RuleKind.KEY_ACCOUNT},
    {"name": "Large audience", "kind": RuleKind.FOLLOWERS_AT_LEAST, "threshold": 10000},
]


class RuleSet:
    """The enabled rules, loaded once per batch."""

    def __init__(self, rules=None):
        self.rules = list(rules if rules is not None else FlagRule.objects.filter(enabled=True))

    def reasons(self, mention, key_account_name: str | None = None) -> list[str]:
        reasons = []
        for rule in self.rules:
            if rule.kind == RuleKind.COMPOUND_AT_MOST:
                if mention.compound is not None and rule.threshold is not None and mention.compound <= rule.threshold:
                    reasons.append(f"{rule.name}: compound {mention.compound:+.2f} ≤ {rule.threshold:+.2f}")
            elif rule.kind == RuleKind.KEYWORDS:
                found = found_in(mention.text, rule.keywords)
                if found:
                    reasons.append(f"{rule.name}: {', '.join(found)}")
            elif rule.kind == RuleKind.FOLLOWERS_AT_LEAST:
                followers = mention.author_followers
                if followers is not None and rule.threshold is not None and followers >= rule.threshold:
                    reasons.append(f"{rule.name}: {followers:,} followers")
            elif rule.kind == RuleKind.KEY_ACCOUNT and key_account_name:
                reasons.append(f"{rule.name}: {key_account_name}")
        return reasons
