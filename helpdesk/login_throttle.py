"""Sign-in throttling: after LOGIN_FAILURE_LIMIT failed attempts for one username from one
client address, that pair is locked for LOGIN_LOCKOUT_MINUTES. Counted in the shared cache
(Redis in production) so every web process sees the same count."""

import hashlib

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from helpdesk.cache_counter import count_hit

LOCKED_MESSAGE = (
    "Too many failed sign-ins for this username from your network. "
    "Sign-in is locked for {minutes} minutes; try again later or ask an admin to reset "
    "your password."
)


def _key(request: HttpRequest) -> str:
    username = request.POST.get("username", "").strip().lower()
    client = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{username}\n{client}".encode()).hexdigest()
    return f"login-failures:{digest}"


def is_locked(request: HttpRequest) -> bool:
    return cache.get(_key(request), 0) >= settings.LOGIN_FAILURE_LIMIT


def record_failure(request: HttpRequest) -> None:
    """Count a failure atomically; the failure that reaches the limit starts the full lockout."""
    key, lockout_seconds = _key(request), settings.LOGIN_LOCKOUT_MINUTES * 60
    failures = count_hit(key, timeout=lockout_seconds)
    if failures == settings.LOGIN_FAILURE_LIMIT:
        cache.touch(key, timeout=lockout_seconds)


def clear_failures(request: HttpRequest) -> None:
    cache.delete(_key(request))


class LockedAuthenticationForm(AuthenticationForm):
    """The sign-in form while locked: it never checks the password."""

    def clean(self):
        raise ValidationError(
            LOCKED_MESSAGE.format(minutes=settings.LOGIN_LOCKOUT_MINUTES), code="locked"
        )


class ThrottledLoginView(LoginView):
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if is_locked(request):
            form = LockedAuthenticationForm(request, data=request.POST)
            form.is_valid()
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        clear_failures(self.request)
        return super().form_valid(form)

    def form_invalid(self, form) -> HttpResponse:
        record_failure(self.request)
        return super().form_invalid(form)
