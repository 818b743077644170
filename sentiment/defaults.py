"""The shipped lexicon and flag rules, created by a data migration and restorable by `load_demo_data`."""

from django.apps import apps as global_apps

from sentiment.flagging import DEFAULT_RULES
from sentiment.lexicon import DEFAULT_LEXICON


def create_default_rules_and_lexicon(apps=global_apps) -> int:
    """Create any shipped lexicon entry or flag rule that does not exist (by name); edited ones are kept."""
    LexiconEntry = apps.get_model("sentiment", "LexiconEntry")
    FlagRule = apps.get_model("sentiment", "FlagRule")
    created = 0
    for term, valence in DEFAULT_LEXICON.items():
        created += LexiconEntry.objects.get_or_create(term=term, defaults={"valence": valence,
                                                                           "note": "shipped default"})[1]
    for rule in DEFAULT_RULES:
        fields = dict(rule)
        created += FlagRule.objects.get_or_create(name=fields.pop("name"), defaults=fields)[1]
    return created
