"""Signed survey links: the token names an invitation and its random nonce, and expires."""

from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "surveys.invitation-link"


class InvalidToken(Exception):
    """Forged, tampered with, or no longer matching its invitation."""


class ExpiredToken(Exception):
    pass


def make_token(*, invitation_id: int, nonce: str) -> str:
    return signing.dumps({"i": invitation_id, "n": nonce}, salt=SALT, compress=True)


def read_token(token: str) -> tuple[int, str]:
    """The (invitation id, nonce) the token was signed for; raises InvalidToken/ExpiredToken."""
    max_age = timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ExpiredToken from error
    except (signing.BadSignature, ValueError, UnicodeError) as error:
        raise InvalidToken from error
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("i"), int)
        and isinstance(payload.get("n"), str)
    ):
        raise InvalidToken
    return payload["i"], payload["n"]
