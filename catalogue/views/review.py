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

# What each decision runs (a service taking offer= or revision=, user= and comment=) and the message it leaves.
OFFER_ACTIONS = {
    PUBLISH: (services.offer_publish, gettext_lazy("« %(offer)s » est publiée.")),
    REQUEST_CHANGES: (services.offer_request_changes,
                      gettext_lazy("Modifications demandées au fournisseur pour « %(offer)s ».")),
}
REVISION_ACTIONS = {
    APPROVE: (services.revision_approve, gettext_lazy("Modification de « %(offer)s » approuvée et publiée.")),
    REQUEST_CHANGES: (services.revision_request_changes,
                      gettext_lazy("Modification de « %(offer)s » renvoyée au fournisseur.")),
}


def _take_decision(request: HttpRequest, form: ReviewDecisionForm, actions: dict, *, target: dict,
                   offer: Offer, missing: str) -> HttpResponse | None:
    """Run the decision chosen in the POST with the form's comment: a redirect to the queue once it is
    taken; None when it is not (the form then says why)."""
    valid = form.is_valid()
    chosen = actions.get(request.POST.get("decision"))
    if chosen is None:
        form.add_error(None, missing)
        return None
    if not valid:
        return None
    service, message = chosen
    try:
        service(**target, user=request.user, comment=form.cleaned_data["comment"])
    except RuleViolation as violation:
        form.add_violation(violation)
        return None
    messages.success(request, message % {"offer": offer.name})
    return redirect("review:queue")


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
        taken = _take_decision(request, form, OFFER_ACTIONS, target={"offer": offer}, offer=offer,
                               missing=_("Choisissez une décision : publier ou demander des modifications."))
        if taken:
            return taken
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
        taken = _take_decision(request, form, REVISION_ACTIONS, target={"revision": revision}, offer=revision.offer,
                               missing=_("Choisissez une décision : approuver ou demander des modifications."))
        if taken:
            return taken
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
