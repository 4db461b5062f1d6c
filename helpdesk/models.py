from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from rest_framework.authtoken.models import Token

from helpdesk.roles import Role, role_of


class User(AbstractUser):
    """A staff member: admin, team lead or agent. Customers are never users."""

    away = models.BooleanField(
        default=False, help_text="Away agents are skipped by automatic assignment."
    )

    @cached_property
    def role(self) -> Role | None:
        return role_of(self)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class AuditLog(models.Model):
    """One change to one object, by a person or by the system (``actor`` empty)."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_type = models.CharField(max_length=50)
    target_id = models.BigIntegerField()
    action = models.CharField(max_length=50)
    changes = models.JSONField(default=dict, blank=True)
    cause = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"


class TokenScope(models.Model):
    """What an API token may do. A token without a scope row reads and writes, as its user's
    role allows (tokens created before scopes existed keep working)."""

    class Access(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    token = models.OneToOneField(
        "authtoken.Token", primary_key=True, on_delete=models.CASCADE, related_name="scope"
    )
    access = models.CharField(max_length=5, choices=Access.choices, default=Access.READ)

    def __str__(self) -> str:
        return f"{self.token.user} ({self.get_access_display()})"


class ScopedTokenManager(models.Manager):
    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().select_related("scope")


class ScopedToken(Token):
    """DRF's token, loaded with its scope (the API's authentication class uses this)."""

    objects = ScopedTokenManager()

    class Meta:
        proxy = True
