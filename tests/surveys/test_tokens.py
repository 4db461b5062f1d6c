import time
from unittest import mock

import pytest
from django.core import signing

from surveys.tokens import SALT, ExpiredToken, InvalidToken, make_token, read_token


def test_a_token_reads_back_as_its_invitation_and_nonce():
    token = make_token(invitation_id=42, nonce="n0nce")

    assert read_token(token) == (42, "n0nce")


def test_a_tampered_token_is_invalid():
    token = make_token(invitation_id=42, nonce="n0nce")
    payload, _, signature = token.rpartition(":")
    tampered = make_token(invitation_id=43, nonce="n0nce").rpartition(":")[0] + ":" + signature

    with pytest.raises(InvalidToken):
        read_token(tampered)
    with pytest.raises(InvalidToken):
        read_token(payload + ":" + signature[::-1])


def test_a_token_signed_with_another_key_or_salt_is_invalid():
    forged_key = signing.dumps({"i": 42, "n": "x"}, key="attacker-key", salt=SALT)
    forged_salt = signing.dumps({"i": 42, "n": "x"}, salt="some.other.feature")

    for forged in (forged_key, forged_salt, "garbage", ""):
        with pytest.raises(InvalidToken):
            read_token(forged)


def test_a_well_signed_token_with_a_foreign_payload_is_invalid():
    with pytest.raises(InvalidToken):
        read_token(signing.dumps(["not", "a", "dict"], salt=SALT))


def test_a_token_older_than_the_maximum_age_has_expired(settings):
    settings.SURVEY_LINK_MAX_AGE_DAYS = 14
    fifteen_days_ago = time.time() - 15 * 86400
    with mock.patch("django.core.signing.time.time", return_value=fifteen_days_ago):
        token = make_token(invitation_id=42, nonce="n0nce")

    with pytest.raises(ExpiredToken):
        read_token(token)


def test_a_token_within_the_maximum_age_is_accepted(settings):
    settings.SURVEY_LINK_MAX_AGE_DAYS = 14
    thirteen_days_ago = time.time() - 13 * 86400
    with mock.patch("django.core.signing.time.time", return_value=thirteen_days_ago):
        token = make_token(invitation_id=42, nonce="n0nce")

    assert read_token(token) == (42, "n0nce")
