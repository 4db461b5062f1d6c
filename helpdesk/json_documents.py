"""Checks on JSON documents from users before they reach a jsonb column, shared by the API's
parser and serializers and the HTML forms: PostgreSQL refuses some documents Python accepts,
and a document nested deeply enough breaks Python itself when it is parsed or written back."""

import math
import re
from collections.abc import Iterable, Iterator

from django import forms
from django.forms.fields import InvalidJSONInput

# Far beyond any real document and far below Python's recursion limit: a document that parses
# close to that limit can still fail later, when it is saved or rendered back as JSON.
MAX_DEPTH = 100
TOO_DEEP = f"Nested more than {MAX_DEPTH} levels deep."
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def unstorable_reason(document) -> str:
    """Why ``document`` cannot be stored in jsonb, or "" when it can: too deep, a NUL or lone
    surrogate character, or an infinite number (Python's json reads 1e400 as infinity)."""
    if nested_deeper_than(document, MAX_DEPTH):
        return TOO_DEEP
    for scalar in _scalars_in(document):
        if isinstance(scalar, str) and UNSTORABLE_CHARACTERS.search(scalar):
            return "Text may not contain NUL (\\u0000) or lone surrogate characters."
        if isinstance(scalar, float) and not math.isfinite(scalar):
            return "Numbers must be finite: between about -1.8e308 and 1.8e308."
    return ""


def nested_deeper_than(document, limit: int) -> bool:
    values_at_depth = [document]
    for _ in range(limit):
        values_at_depth = [child for value in values_at_depth for child in _children(value)]
    return any(isinstance(value, dict | list) for value in values_at_depth)


def _children(value) -> Iterable:
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list):
        return value
    return ()


def _scalars_in(document) -> Iterator:
    """Every string, number, boolean and null in a document, object keys included."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        else:
            yield item


class JSONDocumentField(forms.JSONField):
    """A form field for a JSON document PostgreSQL can store; one too deep for Python to parse
    is refused like any other."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(TOO_DEEP) from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:  # shown back as typed, like any other invalid JSON
            return InvalidJSONInput(data)

    def validate(self, value):
        super().validate(value)
        if reason := unstorable_reason(value):
            raise forms.ValidationError(reason)
