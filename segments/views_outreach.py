"""Outreach pages: leads write a campaign to a segment, preview it, test it and send it;
customers unsubscribe through the signed link in every campaign email."""

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.permissions import lead_required, public_view
from segments import outreach, selectors
from segments.models import Campaign
from tickets.forms import service_errors_on
from tickets.models import Customer


class CampaignForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=None)
    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        widget=forms.Textarea,
        help_text="Placeholders: {{ customer.first_name }}, {{ customer.name }}, "
        "{{ customer.email }}, {{ segment.name }}, {{ custom.<field> }}. "
        "An unsubscribe link is added at the end.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = selectors.current_segments()
        self.fields["segment"].label_from_instance = (
            lambda segment: f"{segment.segmentation.name}: {segment.label}"
        )


@lead_required
@require_GET
def campaign_list(request):
    campaigns = Campaign.objects.select_related("segment__segmentation", "created_by")
    return render(request, "segments/outreach/list.html", {"campaigns": campaigns[:100]})


@lead_required
@require_http_methods(["GET", "POST"])
def campaign_new(request):
    form = CampaignForm(request.POST or None, initial={"segment": request.GET.get("segment")})
    if request.method == "POST" and form.is_valid():
        with service_errors_on(form):
            campaign = outreach.create_campaign(author=request.user, **form.cleaned_data)
            return redirect("segments:campaign", campaign_id=campaign.pk)
    status = 400 if form.errors else 200
    return render(request, "segments/outreach/new.html", {"form": form}, status=status)


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("segment__segmentation", "created_by"), pk=campaign_id
    )


@lead_required
@require_GET
def campaign_detail(request, campaign_id: int):
    campaign = _campaign(campaign_id)
    context = {"campaign": campaign, "progress": outreach.progress(campaign)}
    if campaign.state == Campaign.State.DRAFT:
        context["preview"] = outreach.preview(campaign)
    return render(request, "segments/outreach/detail.html", context)


@lead_required
@require_GET
def campaign_progress(request, campaign_id: int):
    campaign = _campaign(campaign_id)
    context = {"campaign": campaign, "progress": outreach.progress(campaign)}
    return render(request, "segments/outreach/partials/progress.html", context)


@lead_required
@require_POST
def campaign_test(request, campaign_id: int):
    campaign = _campaign(campaign_id)
    try:
        outreach.send_test_email(campaign=campaign, to=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"A test email went to {request.user.email}.")
    return redirect("segments:campaign", campaign_id=campaign.pk)


@lead_required
@require_POST
def campaign_send(request, campaign_id: int):
    campaign = _campaign(campaign_id)
    try:
        count = outreach.start_campaign(campaign=campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Sending to {count} customers.")
    return redirect("segments:campaign", campaign_id=campaign.pk)


@public_view("customers unsubscribe from outreach through a signed link")
@csrf_exempt  # mail clients' one-click unsubscribe posts without a session; the token is the key
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        customer = outreach.customer_for_unsubscribe_token(token)
    except (signing.BadSignature, Customer.DoesNotExist):
        return render(request, "segments/outreach/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        outreach.unsubscribe(customer=customer)
        return render(request, "segments/outreach/unsubscribe.html", {"done": True})
    return render(request, "segments/outreach/unsubscribe.html", {"customer": customer})
