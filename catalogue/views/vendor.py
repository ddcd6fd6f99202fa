"""The vendor space (/espace-fournisseur/): the provider's offers, alerts, orders, profile and review history.

Thin: catalogue.vendor_selectors scopes every read to the vendor's provider (another
provider's offer is a 404), catalogue.services judge every write, and
`offer_abilities` decides which buttons a page shows. Anyone but a vendor gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from broker.errors import RuleViolation
from catalogue import services, vendor_selectors
from catalogue.forms import OfferForm, ProviderProfileForm, WithdrawForm
from catalogue.models import Offer, OfferRevision, QualificationAlert
from catalogue.models.revision import PROVIDER_EDITABLE_FIELDS, offer_values
from catalogue.selectors import today_local
from catalogue.services.offers import REVISABLE_STATES
from catalogue.services.providers import provider_update_profile

STATE_BADGES = {
    "draft": "fr-badge--new",
    "submitted": "fr-badge--info",
    "changes_requested": "fr-badge--warning",
    "published": "fr-badge--success",
    "withdrawn": "",
}


def _offer(request: HttpRequest, slug: str) -> Offer:
    try:
        return vendor_selectors.vendor_offer(user=request.user, slug=slug)
    except Offer.DoesNotExist:
        raise Http404(_("Cette offre n'existe pas ou n'est pas la vôtre.")) from None


def _with_badge(offer: Offer) -> Offer:
    offer.state_badge = STATE_BADGES.get(offer.state, "")
    return offer


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    provider = vendor_selectors.vendor_provider(user=request.user)
    offers = [_with_badge(offer) for offer in vendor_selectors.vendor_offers(user=request.user)]
    return render(request, "vendor/dashboard.html", {
        "provider": provider,
        "offers": offers,
        "alerts": vendor_selectors.vendor_alerts(user=request.user),
        "orders": vendor_selectors.vendor_orders(user=request.user)[:50],
        "reviews": vendor_selectors.provider_reviews(provider=provider),
        "today": today_local(),
        "thresholds": QualificationAlert.THRESHOLDS,
    })


def _render_form(request: HttpRequest, *, form: OfferForm, offer: Offer | None = None, status: int = 200,
                 pending: OfferRevision | None = None) -> HttpResponse:
    return render(request, "vendor/offer_form.html", {
        "form": form, "offer": offer, "pending": pending,
        "provider": vendor_selectors.vendor_provider(user=request.user),
        "is_revision": offer is not None and offer.state in REVISABLE_STATES,
    }, status=status)


@login_required
def offer_create(request: HttpRequest) -> HttpResponse:
    vendor_selectors.vendor_provider(user=request.user)
    if request.method != "POST":
        return _render_form(request, form=OfferForm())
    form = OfferForm(request.POST)
    if form.is_valid():
        try:
            offer = services.offer_create(user=request.user, values=form.offer_values())
        except RuleViolation as violation:
            form.add_violation(violation)
        else:
            messages.success(request, _("Brouillon « %(offer)s » enregistré. Complétez-le puis soumettez-le à la "
                                        "revue du catalogue.") % {"offer": offer.name})
            return redirect("vendor:offer-detail", slug=offer.slug)
    return _render_form(request, form=form, status=400)


@login_required
def offer_edit(request: HttpRequest, slug: str) -> HttpResponse:
    offer = _offer(request, slug)
    if not services.offer_abilities(offer=offer, user=request.user)["edit"]:
        messages.error(request, _("Cette offre ne se modifie pas dans l'état « %(state)s ».")
                       % {"state": offer.get_state_display()})
        return redirect("vendor:offer-detail", slug=offer.slug)
    pending = vendor_selectors.pending_revision(offer=offer)
    if request.method != "POST":
        # A pending proposal is where the vendor left off: start from it.
        values = {**offer_values(offer), **(pending.values if pending else {})}
        return _render_form(request, form=OfferForm(initial=OfferForm.initial_from(values)), offer=offer,
                            pending=pending)
    form = OfferForm(request.POST)
    if form.is_valid():
        try:
            result = services.offer_edit(offer=offer, user=request.user, values=form.offer_values())
        except RuleViolation as violation:
            form.add_violation(violation)
        else:
            if isinstance(result, OfferRevision):
                messages.success(request, _("Modification proposée : la version publiée reste en ligne jusqu'à "
                                            "son approbation par le catalogue."))
            else:
                messages.success(request, _("Offre enregistrée."))
            return redirect("vendor:offer-detail", slug=offer.slug)
    return _render_form(request, form=form, offer=offer, pending=pending, status=400)


def _render_detail(request: HttpRequest, offer: Offer, *, violation: RuleViolation | None = None,
                   withdraw_form: WithdrawForm | None = None, status: int = 200) -> HttpResponse:
    pending = vendor_selectors.pending_revision(offer=offer)
    return render(request, "vendor/offer_detail.html", {
        "offer": _with_badge(offer),
        "values": offer_values(offer),
        "qualification": offer.current_qualification,
        "abilities": services.offer_abilities(offer=offer, user=request.user),
        "pending": pending,
        "pending_diff": vendor_selectors.revision_diff(revision=pending) if pending else [],
        "reviews": [(review, vendor_selectors.changes_diff(review.changes))
                    for review in vendor_selectors.offer_reviews(offer=offer)],
        "violation": violation,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "today": today_local(),
    }, status=status)


@login_required
def offer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_detail(request, _offer(request, slug))


@login_required
@require_POST
def offer_submit(request: HttpRequest, slug: str) -> HttpResponse:
    offer = _offer(request, slug)
    try:
        services.offer_submit(offer=offer, user=request.user)
    except RuleViolation as violation:
        return _render_detail(request, _offer(request, slug), violation=violation, status=400)
    messages.success(request, _("Offre soumise à la revue du catalogue."))
    return redirect("vendor:offer-detail", slug=offer.slug)


@login_required
@require_POST
def offer_withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    offer = _offer(request, slug)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, offer, withdraw_form=form, status=400)
    try:
        services.offer_withdraw(offer=offer, user=request.user, comment=form.cleaned_data["comment"])
    except RuleViolation as violation:
        return _render_detail(request, _offer(request, slug), violation=violation, withdraw_form=form, status=400)
    messages.success(request, _("Offre retirée du catalogue."))
    return redirect("vendor:offer-detail", slug=offer.slug)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    provider = vendor_selectors.vendor_provider(user=request.user)
    initial = {name: getattr(provider, name) for name in PROVIDER_EDITABLE_FIELDS}
    form = ProviderProfileForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                change = provider_update_profile(provider=provider, user=request.user, values=form.cleaned_data)
            except RuleViolation as violation:
                form.add_violation(violation)
            except ValidationError as error:
                form.add_validation_error(error)
            else:
                if change is None:
                    messages.info(request, _("Aucune modification."))
                elif change.affects_sovereignty:
                    messages.warning(request, _(
                        "Profil enregistré. Ce changement touche au contrôle SecNumCloud §19.6 : l'ANSSI et les "
                        "clients ayant des commandes en cours sur vos offres en sont informés. Le référentiel vous "
                        "demande d'informer vos clients dans un délai d'un mois."))
                else:
                    messages.success(request, _("Profil enregistré."))
                return redirect("vendor:profile")
        status = 400
    return render(request, "vendor/profile.html", {
        "provider": provider,
        "form": form,
        "changes": [(change, vendor_selectors.provider_change_rows(change.changes))
                    for change in vendor_selectors.provider_changes(provider=provider)],
    }, status=status)
