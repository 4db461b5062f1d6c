from django.db import transaction

from helpdesk.models import User
from tickets.models import SavedView


@transaction.atomic
def save_view(*, owner: User, name: str, query: str) -> SavedView:
    """Store the agent's filter under ``name``; saving an existing name replaces its filter."""
    view, _ = SavedView.objects.update_or_create(
        owner=owner, name=name.strip(), defaults={"query": query}
    )
    return view


@transaction.atomic
def delete_view(*, owner: User, view_id: int) -> bool:
    """Delete one of the owner's views; another agent's view is never touched."""
    deleted, _ = SavedView.objects.filter(owner=owner, pk=view_id).delete()
    return bool(deleted)
