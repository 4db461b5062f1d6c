import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Sum, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import AuditLog
from surveys import selectors as survey_selectors
from surveys import services as survey_services
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets import services
from tickets.models import Attachment, InboundEmail, Message, Purchase, Ticket

NAME = "Zelda Quixotewright"
EMAIL = "zelda.q@privatemail.test"
PHONE = "+49 30 5550199"
OLD_PHONE = "+49 30 5550100"


@pytest.fixture
def zelda(db, agent, tmp_path, settings):
    """A customer with personal data in every place the help desk keeps it."""
    settings.MEDIA_ROOT = tmp_path
    team = factories.TeamFactory()
    mailbox = factories.MailboxFactory(team=team)
    customer = factories.CustomerFactory(
        email=EMAIL,
        name=NAME,
        phone=OLD_PHONE,
        city="Quedlinburg",
        age=41,
        gender="female",
        external_id="CRM-7781",
        organisation=factories.OrganisationFactory(name="Acme"),
    )
    services.update_customer(
        customer=customer,
        actor=agent,
        data={"phone": PHONE, "custom_fields": {"nickname": "Zed"}},
        tags=["vip"],
    )
    ticket = services.create_ticket(
        customer=customer,
        subject=f"Refund for {NAME}",
        body_text=f"Hi, this is {NAME}, call me on {PHONE} or write to {EMAIL}.",
        body_html=f"<p>This is {NAME}</p>",
        headers={"From": f"{NAME} <{EMAIL}>"},
        mailbox=mailbox,
        message_id="<abc@privatemail.test>",
        assignee=agent,
        team=team,
    )
    inbound = ticket.messages.get()
    InboundEmail.objects.create(
        mailbox=mailbox,
        message_id_header="<abc@privatemail.test>",
        raw=f"From: {NAME} <{EMAIL}>\r\n\r\nCall {PHONE}".encode(),
        state=InboundEmail.State.PROCESSED,
        message=inbound,
    )
    Attachment.objects.create(
        message=inbound,
        file=ContentFile(b"passport scan", name="passport.pdf"),
        filename="passport.pdf",
        content_type="application/pdf",
        size=13,
    )
    services.reply_to_ticket(
        ticket=ticket, author=agent, body_text=f"Hello zelda, we will call {PHONE}."
    )
    services.add_internal_note(
        ticket=ticket, author=agent, body_text=f"Customer {EMAIL} is upset; Quixotewright again"
    )
    services.update_ticket(ticket=ticket, actor=agent, status=Ticket.Status.SOLVED)
    factories.PurchaseFactory(customer=customer, amount="120.00", order_id="SHOP-1")
    factories.PurchaseFactory(customer=customer, amount="30.50", order_id="SHOP-2")
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() - timedelta(hours=2))
    survey_services.invite_solved_tickets()
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    survey_services.send_invitation(invitation_id=invitation.pk)
    survey_services.record_survey_response(
        invitation_id=invitation.pk, score=2, comment=f"{NAME} here: too slow"
    )
    customer.refresh_from_db()
    return customer


@pytest.fixture
def bystander(db):
    """Another customer whose data erasure must not touch."""
    customer = factories.CustomerFactory(name="Bob Bystander", email="bob@example.com")
    services.create_ticket(customer=customer, subject="Hello", body_text="Bob Bystander here")
    return customer


def _text_columns():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def _rows_containing(needle: str) -> list[str]:
    """Every (table.column) in the whole database whose text contains ``needle``."""
    found = []
    for model, field in _text_columns():
        as_text = model._default_manager.annotate(_t=Cast(field.name, TextField()))
        if as_text.filter(_t__icontains=needle).exists():
            found.append(f"{model._meta.db_table}.{field.column}")
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.BinaryField):
                values = model._default_manager.values_list(field.name, flat=True)
                if any(needle.lower().encode() in bytes(v).lower() for v in values if v):
                    found.append(f"{model._meta.db_table}.{field.column}")
    return found


def _report_totals() -> dict:
    return {
        "tickets": Ticket.objects.count(),
        "by_status": list(
            Ticket.objects.order_by("pk").values_list("status", "team_id", "assignee_id")
        ),
        "messages": Message.objects.count(),
        "purchases": Purchase.objects.aggregate(n=models.Count("pk"), total=Sum("amount")),
        "responses": SurveyResponse.objects.count(),
        "csat": survey_selectors.csat_summary(survey_selectors.responses(kind="csat")),
        "timings": list(
            Ticket.objects.order_by("pk").values_list(
                "created_at", "first_response_at", "solved_at"
            )
        ),
    }


# --- export ---------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_customer(zelda, admin_user):
    data = services.export_customer_data(customer=zelda, actor=admin_user)

    assert data["customer"]["email"] == EMAIL
    assert data["customer"]["phone"] == PHONE
    assert data["customer"]["custom_fields"] == {"nickname": "Zed"}
    assert data["customer"]["tags"] == ["vip"]
    assert data["organisation"]["name"] == "Acme"
    [ticket] = data["tickets"]
    assert ticket["subject"] == f"Refund for {NAME}"
    kinds = [message["kind"] for message in ticket["messages"]]
    assert kinds == ["inbound", "outbound", "note"]
    inbound = ticket["messages"][0]
    assert EMAIL in inbound["body_text"]
    assert inbound["attachments"] == [
        {"filename": "passport.pdf", "content_type": "application/pdf", "size": 13}
    ]
    assert inbound["raw_email"]["size"] > 0
    assert sorted(p["order_id"] for p in data["purchases"]) == ["SHOP-1", "SHOP-2"]
    [survey] = data["survey_invitations"]
    assert survey["response"]["score"] == 2
    assert NAME in survey["response"]["comment"]


def test_the_export_is_audited(zelda, admin_user):
    services.export_customer_data(customer=zelda, actor=admin_user)

    entry = AuditLog.objects.get(action="customer_exported")
    assert (entry.target_id, entry.actor) == (zelda.pk, admin_user)


def test_the_export_query_count_does_not_grow_with_tickets(
    zelda, admin_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_ticket:
        services.export_customer_data(customer=zelda, actor=admin_user)
    for _ in range(10):
        ticket = factories.TicketFactory(customer=zelda)
        factories.MessageFactory(ticket=ticket)

    with django_assert_max_num_queries(len(one_ticket)):
        services.export_customer_data(customer=zelda, actor=admin_user)


# --- erasure --------------------------------------------------------------------------------------


def test_after_erasure_no_personal_data_of_the_customer_remains_anywhere(
    zelda, bystander, admin_user, django_capture_on_commit_callbacks
):
    # given
    attachment = Attachment.objects.get()
    assert default_storage.exists(attachment.file.name)
    for needle in (EMAIL, NAME, PHONE, OLD_PHONE, "Quixotewright", "Quedlinburg", "CRM-7781"):
        assert _rows_containing(needle), needle  # the search finds data before erasure

    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_customer(customer=zelda, actor=admin_user)

    # then
    for needle in (EMAIL, NAME, PHONE, OLD_PHONE, "Quixotewright", "Quedlinburg", "CRM-7781"):
        assert _rows_containing(needle) == [], needle
    assert not default_storage.exists(attachment.file.name)
    assert _rows_containing("Bob Bystander") != []


def test_erasure_anonymises_the_profile_and_keeps_the_rows(zelda, admin_user):
    erased = services.erase_customer(customer=zelda, actor=admin_user)

    zelda.refresh_from_db()
    assert zelda.email == f"erased-{zelda.pk}@invalid"
    assert (zelda.name, zelda.phone, zelda.city, zelda.gender) == ("", "", "", "")
    assert (zelda.age, zelda.external_id, zelda.custom_fields) == (None, None, {})
    assert (zelda.country, zelda.plan) == ("DE", "basic")  # coarse, kept for segments
    assert list(zelda.tags.values_list("name", flat=True)) == ["vip"]
    assert erased["tickets"] == 1
    assert erased["attachments"] == 1
    assert erased["survey_comments_cleared"] == 1
    assert Attachment.objects.count() == 0
    assert InboundEmail.objects.get().raw in (b"", memoryview(b""))
    assert SurveyResponse.objects.get().comment == ""
    reply = Message.objects.get(kind="outbound")
    assert reply.body_text == "Hello [erased], we will call [erased]."


def test_erasure_leaves_report_totals_unchanged(zelda, bystander, admin_user):
    before = _report_totals()

    services.erase_customer(customer=zelda, actor=admin_user)

    assert _report_totals() == before
    assert before["purchases"]["total"] == Decimal("150.50")


def test_erasure_is_audited_without_personal_data(zelda, admin_user):
    services.erase_customer(customer=zelda, actor=admin_user)

    entry = AuditLog.objects.get(action="customer_erased")
    assert (entry.target_id, entry.actor) == (zelda.pk, admin_user)
    assert entry.changes["tickets"] == 1
    assert EMAIL not in json.dumps(entry.changes)


def test_old_survey_links_stop_working_after_erasure(zelda, admin_user, client):
    invitation = SurveyInvitation.objects.get(customer=zelda)
    link = survey_services.survey_link(invitation)
    path = link[link.index("/surveys/") :]

    services.erase_customer(customer=zelda, actor=admin_user)

    assert client.get(path).status_code == 400


def test_erased_customers_get_no_new_surveys(zelda, admin_user):
    SurveyInvitation.objects.all().delete()
    services.erase_customer(customer=zelda, actor=admin_user)

    assert survey_services.invite_solved_tickets() == 0
    assert survey_services.invite_nps() == 0


# --- views and permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["customer_privacy", "customer_export", "customer_erase"])
def test_privacy_pages_are_for_admins_only(client, agent, lead, zelda, name):
    url = reverse(f"tickets:{name}", args=[zelda.pk])
    method = client.get if name == "customer_privacy" else client.post

    assert method(url).status_code == 302
    for user in (agent, lead):
        client.force_login(user)
        assert method(url).status_code == 403
    assert AuditLog.objects.filter(action__in=["customer_exported", "customer_erased"]).count() == 0


def test_the_admin_downloads_the_export_as_json(admin_client, zelda):
    page = admin_client.post(reverse("tickets:customer_export", args=[zelda.pk]))

    assert page.status_code == 200
    assert page["Content-Disposition"] == f'attachment; filename="customer-{zelda.pk}.json"'
    assert json.loads(page.content)["customer"]["email"] == EMAIL


def test_the_export_is_not_a_get(admin_client, zelda):
    assert admin_client.get(reverse("tickets:customer_export", args=[zelda.pk])).status_code == 405


def test_erasing_needs_the_email_typed_as_confirmation(admin_client, zelda):
    url = reverse("tickets:customer_erase", args=[zelda.pk])

    refused = admin_client.post(url, {"confirm_email": "someone@else.test"})
    zelda.refresh_from_db()
    still_there = zelda.email
    done = admin_client.post(url, {"confirm_email": EMAIL.upper()})

    assert refused.status_code == 400
    assert "not the customer&#x27;s email address" in refused.content.decode()
    assert still_there == EMAIL
    assert done.status_code == 302
    zelda.refresh_from_db()
    assert zelda.email.endswith("@invalid")


def test_the_privacy_page_and_profile_link(admin_client, zelda):
    page = admin_client.get(reverse("tickets:customer_privacy", args=[zelda.pk]))
    profile = admin_client.get(reverse("tickets:customer", args=[zelda.pk]))

    assert page.status_code == 200
    assert "Erase this customer" in page.content.decode()
    assert reverse("tickets:customer_privacy", args=[zelda.pk]) in profile.content.decode()


def test_an_unknown_customer_is_404(admin_client, db):
    assert admin_client.get(reverse("tickets:customer_privacy", args=[999])).status_code == 404
