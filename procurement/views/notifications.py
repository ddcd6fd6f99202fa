"""The inbox page: a user's notifications, marked read one by one or all at once (POST)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from procurement.models import Notification
from procurement.selectors.notifications import notifications_for, unread_count
from procurement.services.notifications import notification_mark_read, notifications_mark_all_read

PAGE_SIZE = 20


class InboxFilterForm(forms.Form):
    """`?non_lues=1` shows only the unread notifications."""

    non_lues = forms.BooleanField(required=False)


def _back(request: HttpRequest):
    """Return to the page the button was on (same site only), the inbox otherwise."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("procurement:notification-list")


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    unread_only = form.is_valid() and form.cleaned_data["non_lues"]
    notifications = notifications_for(user=request.user, unread=True if unread_only else None)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "procurement/notification_list.html", {
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "ellipsis": Paginator.ELLIPSIS,
        "notifications": page.object_list,
        "unread_only": unread_only,
        "unread_total": unread_count(user=request.user),
    })


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        notification_mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist as missing:
        raise Http404(_("Notification introuvable.")) from missing
    return _back(request)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, _("Toutes vos notifications sont marquées comme lues."))
    return _back(request)


urlpatterns = [
    path("notifications/", notification_list, name="notification-list"),
    path("notifications/tout-lire/", notification_read_all, name="notification-read-all"),
    path("notifications/<int:pk>/lire/", notification_read, name="notification-read"),
]
