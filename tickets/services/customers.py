from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from helpdesk.audit import record_change
from helpdesk.models import User
from tickets.directory import DIRECTORY
from tickets.models import Customer, Organisation, OrganisationDomain, Purchase, Tag

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
    "marketing_consent",
)


def organisation_for_email(email: str) -> Organisation | None:
    domain = email.rpartition("@")[2].lower()
    link = OrganisationDomain.objects.select_related("organisation").filter(domain=domain).first()
    return link.organisation if link else None


def find_or_create_customer(*, email: str, name: str = "") -> tuple[Customer, bool]:
    """Find the customer by address (case-insensitive) or create one, safe under races."""
    email = email.strip()
    existing = Customer.objects.with_address(email).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                email=email, name=name.strip(), organisation=organisation_for_email(email)
            )
    except IntegrityError:
        return Customer.objects.with_address(email).get(), False
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
        if "email" in changes:
            _ensure_email_free(customer)
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


@transaction.atomic
def create_customer(
    *, actor: User | None, data: Mapping, tags: list[str] | None = None
) -> Customer:
    """Create a profile from ``CUSTOMER_EDITABLE_FIELDS``; the address must be new."""
    unknown = sorted(set(data) - set(CUSTOMER_EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({field: "This field cannot be set." for field in unknown})
    customer = Customer(**data)
    if customer.organisation is None:
        customer.organisation = organisation_for_email(customer.email)
    customer.full_clean(validate_constraints=False)
    _ensure_email_free(customer)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # A concurrent request took the address or external id between the check and the insert.
        raise ValidationError("Another customer has this email address or external id.") from exc
    if tags:
        customer.tags.set(tags_named(tags))
    record_change(
        target=customer, action="customer_created", actor=actor, changes={"email": customer.email}
    )
    return customer


@transaction.atomic
def delete_customer(*, customer: Customer, actor: User | None) -> None:
    """Delete a customer and their purchases; customers with tickets are kept for the history."""
    if customer.tickets.exists():
        raise ValidationError("This customer has tickets and cannot be deleted.")
    record_change(
        target=customer, action="customer_deleted", actor=actor, changes={"email": customer.email}
    )
    customer.delete()


def create_purchases(*, purchases: Sequence[Mapping]) -> list[Purchase]:
    """Create every purchase in one transaction, or none of them.

    Each mapping holds Purchase fields with ``customer`` or ``customer_id``. Callers check that
    the customers exist and the order ids are free in one query each; the database constraints
    catch a concurrent writer. The only write is one ``bulk_create`` (split into batches where
    the database limits query parameters, as SQLite does).
    """
    rows = [Purchase(**purchase) for purchase in purchases]
    for index, row in enumerate(rows):
        try:
            row.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError({str(index): exc.messages}) from exc
    try:
        with transaction.atomic():
            return Purchase.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise ValidationError(
            {"order_id": "An order id already exists, or a customer does not exist."}
        ) from exc


@transaction.atomic
def create_tag(*, name: str, colour: str = "") -> Tag:
    name = name.strip().lower()
    if Tag.objects.filter(name=name).exists():
        raise ValidationError({"name": "A tag with this name already exists."})
    tag = Tag(name=name)
    if colour:
        tag.colour = colour
    tag.full_clean(validate_unique=False)
    tag.save()
    return tag


def _ensure_email_free(customer: Customer) -> None:
    others = Customer.objects.with_address(customer.email).exclude(pk=customer.pk)
    if others.exists():
        raise ValidationError({"email": "Another customer already has this address."})


def tags_named(names: list[str]) -> list[Tag]:
    """The Tag rows for ``names``, creating the missing ones in one statement."""
    names = sorted({name.strip().lower() for name in names if name.strip()})
    found = list(Tag.objects.filter(name__in=names))
    if len(found) == len(names):
        return found
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    DIRECTORY.invalidate()  # bulk_create sends no signal
    return list(Tag.objects.filter(name__in=names))


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
