from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.not_found import missing_as_404
from helpdesk.permissions import agent_required
from tickets import selectors, services
from tickets.forms import CustomerForm, CustomerListFilterForm, service_errors_on
from tickets.models import Customer, Tag


@agent_required
@require_GET
def customer_list(request):
    form = CustomerListFilterForm(request.GET, tags=list(Tag.objects.all()))
    page, status = None, 400
    if form.is_valid():
        page = selectors.customer_list_page(
            user=request.user, filters=form.cleaned_data, page=form.cleaned_data["page"] or 1
        )
        status = 200
    return render(
        request, "tickets/customer_list.html", {"form": form, "page": page}, status=status
    )


def _profile_or_404(request, customer_id: int) -> selectors.CustomerProfile:
    with missing_as_404(Customer, "No such customer."):
        return selectors.customer_profile(user=request.user, customer_id=customer_id)


@agent_required
@require_GET
def customer_detail(request, customer_id: int):
    profile = _profile_or_404(request, customer_id)
    return render(request, "tickets/customer_detail.html", {"profile": profile})


@agent_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, customer_id: int):
    customer = _profile_or_404(request, customer_id).customer
    form = CustomerForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        with service_errors_on(form):
            services.update_customer(
                customer=customer,
                actor=request.user,
                data=form.profile_data(),
                tags=form.cleaned_data["tags"],
            )
            return redirect("tickets:customer", customer_id=customer.pk)
    context = {"customer": customer, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/customer_edit.html", context, status=status)
