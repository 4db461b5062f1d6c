"""Request body parsers for the API."""

from collections.abc import Iterable

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far beyond any real payload and far below Python's recursion limit: a document that parses
# close to that limit can still fail later, when it is saved or rendered back as JSON.
MAX_JSON_DEPTH = 100
TOO_DEEP = f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."


def _children(value) -> Iterable:
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list):
        return value
    return ()


def _nested_deeper_than(document, limit: int) -> bool:
    values_at_depth = [document]
    for _ in range(limit):
        values_at_depth = [child for value in values_at_depth for child in _children(value)]
    return any(isinstance(value, dict | list) for value in values_at_depth)


class DepthLimitedJSONParser(parsers.JSONParser):
    """DRF's JSONParser, with a deeply nested document a ParseError (400) instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if _nested_deeper_than(document, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP)
        return document
