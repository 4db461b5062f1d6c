"""Selectors raise the model's DoesNotExist for a missing object; views show the 404 page."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Model
from django.http import Http404


@contextmanager
def missing_as_404(model: type[Model], message: str) -> Iterator[None]:
    """Turn ``model.DoesNotExist`` raised in the block into a 404 with ``message``."""
    try:
        yield
    except model.DoesNotExist as missing:
        raise Http404(message) from missing
