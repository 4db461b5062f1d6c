from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from helpdesk.audit import record_change
from helpdesk.models import User
from tickets.models import Customer, Organisation, OrganisationDomain, Tag

CUSTOMER_EDITABLE_FIELDS = (
    "name",
    "email",
    "phone",
    "organisation",
    "country",
    "city",
    "language",
    "timezone",
    "age",
    "gender",
    "plan",
    "signup_date",
    "external_id",
    "custom_fields",
)


def organisation_for_email(email: str) -> Organisation | None:
    domain = email.rpartition("@")[2].lower()
    link = OrganisationDomain.objects.select_related("organisation").filter(domain=domain).first()
    return link.organisation if link else None


def find_or_create_customer(*, email: str, name: str = "") -> tuple[Customer, bool]:
    """Find the customer by address (case-insensitive) or create one, safe under races."""
    email = email.strip()
    existing = Customer.objects.filter(email__iexact=email).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                email=email, name=name.strip(), organisation=organisation_for_email(email)
            )
    except IntegrityError:
        return Customer.objects.get(email__iexact=email), False
    return customer, True


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    actor: User | None,
    data: dict,
    tags: list[str] | None = None,
) -> Customer:
    """Apply the changed profile fields (and the tag set when given), validated and audited."""
    changes = {}
    for field, value in data.items():
        if field not in CUSTOMER_EDITABLE_FIELDS:
            raise ValidationError({field: "This field cannot be edited."})
        old = getattr(customer, field)
        if old != value:
            setattr(customer, field, value)
            changes[field] = [_plain(old), _plain(value)]
    if changes:
        customer.full_clean(validate_unique=False, validate_constraints=False)
        if "email" in changes and (
            Customer.objects.filter(email__iexact=customer.email).exclude(pk=customer.pk).exists()
        ):
            raise ValidationError({"email": "Another customer already has this address."})
        customer.save(update_fields=[*changes, "updated_at"])
    if tags is not None:
        old_tags = sorted(customer.tags.values_list("name", flat=True))
        new_tags = sorted(set(tags))
        if old_tags != new_tags:
            customer.tags.set(tags_named(new_tags))
            changes["tags"] = [old_tags, new_tags]
    if changes:
        record_change(target=customer, action="customer_updated", actor=actor, changes=changes)
    return customer


def tags_named(names: list[str]) -> list[Tag]:
    """The Tag rows for ``names``, creating the missing ones in one statement."""
    names = sorted({name.strip().lower() for name in names if name.strip()})
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names))


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
