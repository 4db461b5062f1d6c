from django.db import models

from helpdesk.models import AuditLog, User


def record_change(
    *,
    target: models.Model,
    action: str,
    actor: User | None = None,
    changes: dict | None = None,
    cause: str = "",
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor and actor.is_authenticated else None,
        target_type=target._meta.model_name,
        target_id=target.pk,
        action=action,
        changes=changes or {},
        cause=cause,
    )


def history_of(target: models.Model):
    return AuditLog.objects.filter(
        target_type=target._meta.model_name, target_id=target.pk
    ).select_related("actor")
