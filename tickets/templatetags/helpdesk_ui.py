from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def change_text(change) -> str:
    """An audit change as text: ``old → new`` for a [old, new] pair, else the value itself."""
    if isinstance(change, list | tuple) and len(change) == 2:
        old, new = (_text(value) for value in change)
        return f"{old} → {new}"
    return _text(change)


def _text(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return _readable_time(str(value))


def _readable_time(text: str) -> str:
    """The services store timestamps as ISO strings; show them the way the page shows times."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if "T" not in text:
        return text
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@register.simple_tag(takes_context=True)
def render_panel(context, panel) -> str:
    """A sidebar panel another app contributed, rendered with its own context."""
    return render_to_string(panel.template, dict(panel.context), request=context.get("request"))


@register.simple_tag
def time_ago(moment: datetime) -> str:
    """``<time>`` with the moment as ISO 8601, "2025-06-03 14:05" as its tooltip and
    "3 hours ago" as its text. Pages show it per row: one tag instead of three filters, and a
    numeric tooltip because the localised long date cost more than the rest of a row."""
    return _time_element(moment, naturaltime(moment))


@register.simple_tag
def time_at(moment: datetime) -> str:
    """``<time>`` whose text is the local day and time, "3 Jun, 14:05"."""
    return _time_element(moment, date_format(timezone.localtime(moment), "j M, H:i"))


def _time_element(moment: datetime, text: str) -> str:
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        local.strftime("%Y-%m-%d %H:%M"),
        text,
    )


_INBOX_ROW = (
    '<tr class="ticket-row prio-row-{priority}" data-testid="inbox-row" data-ticket-id="{pk}" '
    'data-href="{url}"><td class="cell-check"><input type="checkbox" name="bulk-ticket" '
    'value="{pk}" aria-label="Select ticket {pk}" data-testid="row-check"></td>'
    '<td class="cell-main"><div class="row-top"><span class="prio-dot prio-{priority}" '
    'title="{priority_label} priority"></span><a class="subject" href="{url}" '
    'data-testid="row-subject">{subject}</a><span class="ticket-number">#{pk}</span></div>'
    '{preview}<div class="row-meta"><span class="customer-name">{customer_name}</span>{badges}'
    '<span class="channel">{channel_label}</span>{team}{tags}</div></td>'
    '<td class="cell-status"><span class="pill status-{status}" data-testid="row-status">'
    "{status_label}</span>{priority_pill}{sla}</td>"
    '<td class="cell-assignee">{assignee}</td><td class="cell-time">{updated}</td></tr>'
)
_PILL_PRIORITIES = ("urgent", "high")


@register.simple_tag
def inbox_row(row, badges) -> str:
    """One inbox row. Built with format_html rather than template tags: at 50 rows of about 20
    values each, the template's per-value lookups were the largest part of the page's time."""
    return format_html(
        _INBOX_ROW,
        pk=row.pk,
        url=row.url,
        priority=row.priority,
        priority_label=row.priority_label,
        subject=row.subject,
        preview=_optional('<p class="preview">{}</p>', row.preview),
        customer_name=row.customer_name,
        badges=_included("tickets/partials/badge.html", "badge", badges),
        channel_label=row.channel_label,
        team=_optional('<span class="team">{}</span>', row.team_name),
        tags=format_html_join("", '<span class="tag">{}</span>', ((n,) for n in row.tag_names)),
        status=row.status,
        status_label=row.status_label,
        priority_pill=_priority_pill(row),
        sla=_included("tickets/sla/due_pill.html", "due", [row.sla] if row.sla else []),
        assignee=_assignee(row.assignee_name),
        updated=time_ago(row.updated_at),
    )


def _optional(html: str, value) -> str:
    return format_html(html, value) if value else ""


def _priority_pill(row) -> str:
    if row.priority not in _PILL_PRIORITIES:
        return ""
    return format_html(
        '<span class="pill prio-pill-{}">{}</span>', row.priority, row.priority_label
    )


def _included(template_name: str, name: str, items) -> str:
    """The partial other pages include, per item: its markup stays in one place."""
    return mark_safe("".join(render_to_string(template_name, {name: item}) for item in items))


def _assignee(name: str) -> str:
    if not name:
        return mark_safe('<span class="muted">Unassigned</span>')
    return format_html(
        '<span class="avatar" aria-hidden="true">{}</span>{}', name[:1].upper(), name
    )


@register.simple_tag
def select_options(field) -> str:
    """A choice field's ``<option>`` list with its current value selected (one tag rather than
    a template loop: the inbox shows about ten of these)."""
    value = field.value()
    current = "" if value is None else str(value)
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (choice, mark_safe(" selected") if str(choice) == current else "", label)
            for choice, label in field.field.choices
        ),
    )


@register.simple_tag
def time_span(moment: datetime) -> str:
    """``<time>`` with the moment as ISO 8601 and its local "2025-06-03 14:05" as tooltip, whose
    text is how far the moment is from now, either way, the way an SLA clock reads it: "35 min",
    "2 h 10 min", "3 d 4 h" ("due in …", "breached … ago" go around it)."""
    return _time_element(moment, _span_text(abs(moment - timezone.now())))


def _span_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "less than a minute"
