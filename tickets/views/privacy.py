"""Admin-only privacy actions on a customer: export everything held, and erase."""

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from helpdesk.permissions import admin_required
from tickets import services
from tickets.models import Customer
from tickets.services.privacy import is_erased


class EraseConfirmationForm(forms.Form):
    confirm_email = forms.CharField(label="Type the customer's email address to confirm")

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm_email(self) -> str:
        typed = self.cleaned_data["confirm_email"].strip()
        if typed.lower() != self.customer.email.lower():
            raise forms.ValidationError("This is not the customer's email address.")
        return typed


def _page(request, customer: Customer, form: EraseConfirmationForm, *, status: int = 200):
    context = {"customer": customer, "form": form, "erased": is_erased(customer)}
    return render(request, "tickets/customer_privacy.html", context, status=status)


@admin_required
@require_GET
def customer_privacy(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    return _page(request, customer, EraseConfirmationForm(customer=customer))


@admin_required
@require_POST
def customer_export(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    data = services.export_customer_data(customer=customer, actor=request.user)
    response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@admin_required
@require_POST
def customer_erase(request, customer_id: int):
    customer = get_object_or_404(Customer, pk=customer_id)
    form = EraseConfirmationForm(request.POST, customer=customer)
    if not form.is_valid():
        return _page(request, customer, form, status=400)
    services.erase_customer(customer=customer, actor=request.user)
    messages.success(request, f"Customer #{customer.pk} has been erased.")
    return redirect("tickets:customer_privacy", customer_id=customer.pk)
