import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from comms.choices import MessageState
from incidents.choices import ComponentTier, IncidentStatus, Severity
from incidents.models import Component, Incident


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if extracted:
            user.groups.add(Group.objects.get(name=extracted))


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    name = factory.Sequence(lambda n: f"Component {n}")
    tier = ComponentTier.TIER1


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Incident {n}")
    severity = Severity.SEV2
    status = IncidentStatus.INVESTIGATING
    started_at = factory.LazyFunction(timezone.now)
    # Already on the status page, as most incidents a test looks at publicly are; one opened through
    # incidents.services.create_incident (the API, the pages) starts internal, as in production.
    public_since = factory.LazyFunction(timezone.now)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Account"

    name = factory.Sequence(lambda n: f"Customer {n}")
    tier = "growth"
    arr = 120_000
    currency = "USD"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Contact"

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class ImpactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Impact"

    incident = factory.SubFactory(IncidentFactory)
    account = factory.SubFactory(AccountFactory)
    owner = factory.LazyAttribute(lambda impact: impact.account.owner)
    level = "major"


class MessageFactory(factory.django.DjangoModelFactory):
    """A draft public update with every EARS part written, stored as is: no timeline entry, no checks (use
    comms.messaging.create_message for what a person writing it goes through). Pass state=... for another state."""

    class Meta:
        model = "comms.Message"

    incident = factory.SubFactory(IncidentFactory)
    author = factory.SubFactory(UserFactory)
    headline = factory.Sequence(lambda n: f"Update {n}: checkout is failing for some customers")
    explain = "Some card payments fail at checkout; we are working on it."
    acknowledge = "We are sorry for the disruption."
    resolve = "Payments work again; failed orders can be placed once more."
    study = "A configuration change caused it; we now test such changes before release."
    channels = factory.LazyFunction(lambda: ["statuspage", "email"])
    state = MessageState.DRAFT


class DeliveryFactory(factory.django.DjangoModelFactory):
    """One email delivery of a MessageFactory message, queued, to a recipient of its own."""

    class Meta:
        model = "comms.Delivery"

    message = factory.SubFactory(MessageFactory)
    channel = "email"
    recipient = factory.Sequence(lambda n: f"recipient{n}@example.com")
