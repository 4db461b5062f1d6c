"""factory_boy factories shared by every test; exposed as fixtures in conftest.py."""

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from helpdesk.models import User
from helpdesk.roles import Role
from tickets.models import (
    Customer,
    Mailbox,
    Message,
    Organisation,
    OrganisationDomain,
    Purchase,
    Tag,
    Team,
    Ticket,
)


def _role_hook(default: Role | None):
    def add_to_role_group(user, create, extracted, **kwargs):
        role = extracted or default
        if create and role:
            group, _ = Group.objects.get_or_create(name=Role(role).group_name)
            user.groups.add(group)

    return factory.PostGeneration(add_to_role_group)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@staff.example.com")
    password = factory.django.Password("password")

    role = _role_hook(None)


class AgentFactory(UserFactory):
    role = _role_hook(Role.AGENT)


class LeadFactory(UserFactory):
    role = _role_hook(Role.LEAD)


class AdminFactory(UserFactory):
    role = _role_hook(Role.ADMIN)


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Faker("company")
    industry = "Software"
    size = 50


class OrganisationDomainFactory(DjangoModelFactory):
    class Meta:
        model = OrganisationDomain

    organisation = factory.SubFactory(OrganisationFactory)
    domain = factory.Sequence(lambda n: f"org{n}.example.com")


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Faker("name")
    country = "DE"
    plan = "basic"


class PurchaseFactory(DjangoModelFactory):
    class Meta:
        model = Purchase

    order_id = factory.Sequence(lambda n: f"ORD-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    ordered_at = factory.LazyFunction(timezone.now)
    amount = "49.90"
    product = "Widget"
    category = "widgets"


class MailboxFactory(DjangoModelFactory):
    class Meta:
        model = Mailbox

    slug = factory.Sequence(lambda n: f"support{n}")
    address = factory.Sequence(lambda n: f"support{n}@helpdesk.example.com")


class TicketFactory(DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Faker("sentence", nb_words=5)
    customer = factory.SubFactory(CustomerFactory)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda t: t.created_at)
    routed_at = factory.LazyAttribute(lambda t: t.created_at)


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    kind = Message.Kind.INBOUND
    body_text = factory.Faker("paragraph")
    created_at = factory.LazyFunction(timezone.now)
