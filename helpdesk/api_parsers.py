"""Request body parsers for the API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from helpdesk.json_documents import MAX_DEPTH, nested_deeper_than

TOO_DEEP = f"JSON parse error - nested more than {MAX_DEPTH} levels deep."


class DepthLimitedJSONParser(parsers.JSONParser):
    """DRF's JSONParser, with a deeply nested document a ParseError (400) instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if nested_deeper_than(document, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        return document
