"""Pages for framework contracts: the list with what is committed, and one framework with its lots and offers.

Public pages; negotiated prices (discounts, discounted prices) and committed or
remaining amounts are shown to signed-in users only (DESIGN: anonymous visitors
see no price negotiated under a framework).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from catalogue.selectors import today_local
from procurement.models import FrameworkContract, FrameworkStatus
from procurement.selectors import frameworks as selectors

# DSFR badge colour for each framework status.
STATUS_BADGES = {
    FrameworkStatus.UPCOMING: "fr-badge--info",
    FrameworkStatus.IN_FORCE: "fr-badge--success",
    FrameworkStatus.ENDED: "fr-badge--warning",
    FrameworkStatus.TERMINATED: "fr-badge--error",
}


def _with_status(framework: FrameworkContract, today) -> FrameworkContract:
    status = FrameworkStatus(framework.status_on(today))
    framework.status_label, framework.status_badge = status.label, STATUS_BADGES[status]
    return framework


def framework_list(request: HttpRequest) -> HttpResponse:
    today = today_local()
    frameworks = [_with_status(framework, today) for framework in selectors.framework_list(user=request.user)]
    return render(request, "procurement/framework_list.html", {
        "frameworks": frameworks,
        "today": today,
        "show_amounts": request.user.is_authenticated,
    })


def framework_detail(request: HttpRequest, slug: str) -> HttpResponse:
    today = today_local()
    try:
        framework = selectors.framework_detail(slug=slug, user=request.user)
    except FrameworkContract.DoesNotExist:
        raise Http404(_("Cet accord-cadre n'existe pas.")) from None
    return render(request, "procurement/framework_detail.html", {
        "framework": _with_status(framework, today),
        "today": today,
        "show_amounts": request.user.is_authenticated,
    })


urlpatterns: list = [
    path("cadres/", framework_list, name="framework-list"),
    path("cadres/<slug:slug>/", framework_detail, name="framework-detail"),
]
