from django.shortcuts import render
from django.views.decorators.http import require_GET

from helpdesk.not_found import missing_as_404
from helpdesk.permissions import agent_required
from tickets import selectors
from tickets.forms import OrganisationListForm
from tickets.models import Organisation


@agent_required
@require_GET
def organisation_list(request):
    form = OrganisationListForm(request.GET)
    page, status = None, 400
    if form.is_valid():
        page = selectors.organisation_list_page(
            query=form.cleaned_data["q"], page=form.cleaned_data["page"] or 1
        )
        status = 200
    context = {"form": form, "page": page}
    return render(request, "tickets/organisation_list.html", context, status=status)


@agent_required
@require_GET
def organisation_detail(request, organisation_id: int):
    with missing_as_404(Organisation, "No such organisation."):
        page = selectors.organisation_page(user=request.user, organisation_id=organisation_id)
    return render(request, "tickets/organisation_detail.html", {"org": page})
