"""The audit page: the whole trail, filtered, for ANSSI staff and catalogue managers. Read-only: GET only."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from dsfr.forms import DsfrBaseForm

from audit.models import AuditTarget
from audit.selectors import audit_events

PAGE_SIZE = 50


class AuditFilterForm(DsfrBaseForm):
    type = forms.ChoiceField(label=_("Type d'objet"), required=False,
                             choices=[("", _("Tous"))] + AuditTarget.choices)
    auteur = forms.CharField(label=_("Auteur (identifiant)"), required=False, max_length=150)
    objet = forms.CharField(label=_("Objet (nom contenant)"), required=False, max_length=100)
    id = forms.CharField(label=_("Identifiant de l'objet"), required=False, max_length=64)
    du = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("du") and cleaned.get("au") and cleaned["du"] > cleaned["au"]:
            self.add_error("au", _("La date de fin précède la date de début."))
        return cleaned


@require_safe
@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_events(
        user=request.user, object_type=filters.get("type", ""), actor=filters.get("auteur", ""),
        object_id=filters.get("id", ""), search=filters.get("objet", ""), since=filters.get("du"),
        until=filters.get("au"),
    )
    if form.is_bound and not form.is_valid():
        events = events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/event_list.html", {
        "form": form,
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "ellipsis": Paginator.ELLIPSIS,
        "events": page.object_list,
    }, status=400 if form.is_bound and not form.is_valid() else 200)
