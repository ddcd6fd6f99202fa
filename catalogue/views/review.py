"""The review queue (/revue/): catalogue managers publish submitted offers and approve revisions.

Each item shows what changed (field, old value, new value) and the decisions
already taken; a decision is a form with a comment, judged by catalogue.services.
Anyone but a catalogue manager gets 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from broker.errors import RuleViolation
from catalogue import services, vendor_selectors
from catalogue.forms import ReviewDecisionForm
from catalogue.models import Offer, OfferRevision
from catalogue.models.revision import offer_values
from catalogue.selectors import today_local

PUBLISH = "publish"
APPROVE = "approve"
REQUEST_CHANGES = "request_changes"

# The buttons of each decision form: value, label, DSFR class.
OFFER_DECISIONS = (
    (PUBLISH, gettext_lazy("Publier"), ""),
    (REQUEST_CHANGES, gettext_lazy("Demander des modifications"), "fr-btn--secondary"),
)
REVISION_DECISIONS = (
    (APPROVE, gettext_lazy("Approuver et publier"), ""),
    (REQUEST_CHANGES, gettext_lazy("Demander des modifications"), "fr-btn--secondary"),
)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    offers = vendor_selectors.review_offers(user=request.user)
    revisions = vendor_selectors.review_revisions(user=request.user)
    return render(request, "review/queue.html", {
        "offers": [(offer, vendor_selectors.submission_diff(offer=offer)) for offer in offers],
        "revisions": [(revision, vendor_selectors.revision_diff(revision=revision)) for revision in revisions],
        "today": today_local(),
    })


def _reviews(offer: Offer) -> list:
    return [(review, vendor_selectors.changes_diff(review.changes))
            for review in vendor_selectors.offer_reviews(offer=offer)]


@login_required
def offer_review(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        offer = vendor_selectors.review_offer(user=request.user, slug=slug)
    except Offer.DoesNotExist:
        raise Http404(_("Cette offre n'existe pas.")) from None
    form = ReviewDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        decision = request.POST.get("decision")
        if form.is_valid() and decision in (PUBLISH, REQUEST_CHANGES):
            comment = form.cleaned_data["comment"]
            try:
                if decision == PUBLISH:
                    services.offer_publish(offer=offer, user=request.user, comment=comment)
                    messages.success(request, _("« %(offer)s » est publiée.") % {"offer": offer.name})
                else:
                    services.offer_request_changes(offer=offer, user=request.user, comment=comment)
                    messages.success(request, _("Modifications demandées au fournisseur pour « %(offer)s ».")
                                     % {"offer": offer.name})
            except RuleViolation as violation:
                form.add_violation(violation)
            else:
                return redirect("review:queue")
        elif decision not in (PUBLISH, REQUEST_CHANGES):
            form.add_error(None, _("Choisissez une décision : publier ou demander des modifications."))
        status = 400
        offer = vendor_selectors.review_offer(user=request.user, slug=slug)
    return render(request, "review/offer_review.html", {
        "offer": offer,
        "values": offer_values(offer),
        "qualification": offer.current_qualification,
        "diff": vendor_selectors.submission_diff(offer=offer),
        "abilities": services.offer_abilities(offer=offer, user=request.user),
        "reviews": _reviews(offer),
        "form": form,
        "decisions": OFFER_DECISIONS,
        "today": today_local(),
    }, status=status)


@login_required
def revision_review(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        revision = vendor_selectors.review_revision(user=request.user, pk=pk)
    except OfferRevision.DoesNotExist:
        raise Http404(_("Cette modification n'existe pas.")) from None
    form = ReviewDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        decision = request.POST.get("decision")
        if form.is_valid() and decision in (APPROVE, REQUEST_CHANGES):
            comment = form.cleaned_data["comment"]
            try:
                if decision == APPROVE:
                    services.revision_approve(revision=revision, user=request.user, comment=comment)
                    messages.success(request, _("Modification de « %(offer)s » approuvée et publiée.")
                                     % {"offer": revision.offer.name})
                else:
                    services.revision_request_changes(revision=revision, user=request.user, comment=comment)
                    messages.success(request, _("Modification de « %(offer)s » renvoyée au fournisseur.")
                                     % {"offer": revision.offer.name})
            except RuleViolation as violation:
                form.add_violation(violation)
            else:
                return redirect("review:queue")
        elif decision not in (APPROVE, REQUEST_CHANGES):
            form.add_error(None, _("Choisissez une décision : approuver ou demander des modifications."))
        status = 400
        revision = vendor_selectors.review_revision(user=request.user, pk=pk)
    return render(request, "review/revision_review.html", {
        "revision": revision,
        "offer": revision.offer,
        "diff": vendor_selectors.revision_diff(revision=revision),
        "abilities": services.revision_abilities(revision=revision, user=request.user),
        "reviews": _reviews(revision.offer),
        "form": form,
        "decisions": REVISION_DECISIONS,
        "today": today_local(),
    }, status=status)
