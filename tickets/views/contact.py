"""The public "Contact support" page: the web form channel."""

from django import forms
from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.permissions import public_view
from tickets import services
from tickets.ratelimit import allow

RATE_WINDOW_SECONDS = 60 * 60


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(max_length=254)
    subject = forms.CharField(max_length=255)
    message = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 8}))


@public_view("customers without a login open tickets from the contact form")
@require_http_methods(["GET", "POST"])
def contact(request):
    form = ContactForm(request.POST or None)
    if request.method == "GET":
        return render(request, "tickets/contact.html", {"form": form})
    if not form.is_valid():
        return render(request, "tickets/contact.html", {"form": form}, status=400)
    data = form.cleaned_data
    if not _within_rate_limit(request.META.get("REMOTE_ADDR", ""), data["email"]):
        return render(request, "tickets/contact.html", {"form": form, "limited": True}, status=429)
    services.submit_contact_form(
        email=data["email"], name=data["name"], subject=data["subject"], body=data["message"]
    )
    return redirect("tickets:contact_sent")


def _within_rate_limit(ip: str, email: str) -> bool:
    limit = settings.CONTACT_RATE_LIMIT_PER_HOUR
    by_ip = allow(f"contact:ip:{ip}", limit=limit, window_seconds=RATE_WINDOW_SECONDS)
    by_email = allow(
        f"contact:email:{email.lower()}", limit=limit, window_seconds=RATE_WINDOW_SECONDS
    )
    return by_ip and by_email


@public_view("the confirmation page after the contact form")
@require_GET
def contact_sent(request):
    return render(request, "tickets/contact_sent.html")
