"""Offers: vendors' drafts, the review pipeline, and revisions of published offers.

The pipeline is OFFER_TRANSITIONS (catalogue/models/offer.py), read by `can_move`
only; `_move` is the one place an offer's publication state changes, and it
records the decision (who, when, comment) as an OfferReview. A vendor edits a
draft (or an offer sent back for changes) in place; editing a published offer
proposes an OfferRevision and leaves the live offer as it is until a catalogue
manager approves it. Vendors never reach a qualification, a decision number or
a date that ANSSI sets: those are not among the editable fields, and any other
field is refused.

Who may do what is answered here (`role_allows`, `may`, `offer_abilities`) for
pages, API and services alike. Seeing an offer is settled before, by
catalogue.vendor_selectors: another provider's offer is simply not found.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from broker import roles
from broker.errors import RuleViolation
from catalogue.countries import COUNTRY_CODES
from catalogue.freshness import bump_after_commit
from catalogue.models import (
    OFFER_TRANSITIONS,
    Certification,
    CertificationKind,
    Offer,
    OfferLocation,
    OfferReview,
    OfferRevision,
    OfferState,
    ReviewDecision,
    RevisionState,
    ServiceModel,
)
from catalogue.models.revision import OFFER_EDITABLE_FIELDS, offer_values
from procurement.models import NotificationKind
from procurement.services.notifications import notify

EDIT = "edit"
SUBMIT = "submit"
WITHDRAW = "withdraw"
PUBLISH = "publish"
REQUEST_CHANGES = "request_changes"
OFFER_ACTIONS = (EDIT, SUBMIT, WITHDRAW, PUBLISH, REQUEST_CHANGES)
VENDOR_ACTIONS = (EDIT, SUBMIT, WITHDRAW)
MANAGER_ACTIONS = (PUBLISH, REQUEST_CHANGES)

# The state each workflow action moves an offer to.
ACTION_TARGETS: dict[str, str] = {
    SUBMIT: OfferState.SUBMITTED,
    WITHDRAW: OfferState.WITHDRAWN,
    PUBLISH: OfferState.PUBLISHED,
    REQUEST_CHANGES: OfferState.CHANGES_REQUESTED,
}
# Edited in place by the vendor; a published offer is edited through a revision.
EDITABLE_STATES = (OfferState.DRAFT, OfferState.CHANGES_REQUESTED)
REVISABLE_STATES = (OfferState.PUBLISHED,)

TEXT_LIMITS = {"name": 200, "category": 100, "price_unit": 60, "description": 20000}
CERTIFICATION_REFERENCE_LIMIT = 100
MAX_PRICE = Decimal("9999999999.99")  # the column holds 12 digits, 2 after the point


# --- Who may do what -------------------------------------------------------------------------------------


def can_move(state_from: str, state_to: str) -> bool:
    """The publication pipeline (OFFER_TRANSITIONS): may an offer go from `state_from` to `state_to`?"""
    return state_to in OFFER_TRANSITIONS.get(state_from, frozenset())


def is_offer_vendor(user, offer: Offer) -> bool:
    """A vendor of the provider that sells `offer`."""
    if not roles.is_vendor(user):
        return False
    provider = roles.provider_of(user)
    return provider is not None and provider.pk == offer.provider_id


def role_allows(action: str, *, offer: Offer, user) -> bool:
    """Whether `user`'s role and ties let them take `action` on `offer` at all, whatever its state."""
    if action in VENDOR_ACTIONS:
        return is_offer_vendor(user, offer)
    if action in MANAGER_ACTIONS:
        return roles.is_catalogue_manager(user)
    raise ValueError(f"unknown offer action {action!r}")


def may(action: str, *, offer: Offer, user) -> bool:
    """Whether the server would accept `action` on `offer` now (role and publication state)."""
    if not role_allows(action, offer=offer, user=user):
        return False
    if action == EDIT:
        return offer.state in EDITABLE_STATES or offer.state in REVISABLE_STATES
    return can_move(offer.state, ACTION_TARGETS[action])


def offer_abilities(*, offer: Offer, user) -> dict[str, bool]:
    """`may` for every action, so pages and API clients only offer what the server accepts."""
    return {action: may(action, offer=offer, user=user) for action in OFFER_ACTIONS}


def revision_abilities(*, revision: OfferRevision, user) -> dict[str, bool]:
    decidable = revision.state == RevisionState.PENDING and roles.is_catalogue_manager(user)
    return {"approve": decidable, "request_changes": decidable}


def _ensure(action: str, *, offer: Offer, user) -> None:
    if not role_allows(action, offer=offer, user=user):
        raise PermissionDenied(_("Vous ne pouvez pas faire cela sur cette offre."))


def _ensure_manager(user) -> None:
    if not roles.is_catalogue_manager(user):
        raise PermissionDenied(_("Réservé aux gestionnaires du catalogue."))


# --- Values a vendor may set --------------------------------------------------------------------------------


def _text(name: str, value) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > TEXT_LIMITS[name]:
        raise RuleViolation("invalid", _("%(limit)s caractères au plus.") % {"limit": TEXT_LIMITS[name]}, field=name)
    return text


def _price(value) -> str | None:
    if value in (None, ""):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0 or price > MAX_PRICE or price != round(price, 2):
        raise RuleViolation("invalid", _("Un prix positif en euros, deux décimales au plus."), field="list_price")
    return str(price.quantize(Decimal("0.01")))


def _locations(value) -> list[str]:
    codes = [str(code).strip().upper() for code in (value or [])]
    unknown = sorted(set(codes) - COUNTRY_CODES)
    if unknown:
        raise RuleViolation("invalid", _("Pays inconnu : %(codes)s.") % {"codes": ", ".join(unknown)},
                            field="locations")
    return sorted(set(codes))


def _day(value) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RuleViolation("invalid", _("Date invalide « %(value)s » (format AAAA-MM-JJ).") % {"value": value},
                            field="certifications") from None


def _certifications(value) -> list[dict]:
    certifications: dict[str, dict] = {}
    for item in value or []:
        kind = str(item.get("kind", ""))
        if kind not in CertificationKind.values:
            raise RuleViolation("invalid", _("Certification inconnue : %(kind)s.") % {"kind": kind},
                                field="certifications")
        if kind in certifications:
            raise RuleViolation("invalid", _("La certification %(kind)s figure deux fois.")
                                % {"kind": CertificationKind(kind).label}, field="certifications")
        reference = str(item.get("reference") or "").strip()
        if len(reference) > CERTIFICATION_REFERENCE_LIMIT:
            raise RuleViolation("invalid", _("Référence de certificat : %(limit)s caractères au plus.")
                                % {"limit": CERTIFICATION_REFERENCE_LIMIT}, field="certifications")
        certifications[kind] = {"kind": kind, "reference": reference, "valid_until": _day(item.get("valid_until"))}
    return [certifications[kind] for kind in sorted(certifications)]


def clean_offer_values(values: dict) -> dict:
    """`values` in the canonical form of offer_values(); a field a vendor may not set is refused by name."""
    refused = sorted(set(values) - set(OFFER_EDITABLE_FIELDS))
    if refused:
        raise RuleViolation(
            "field_not_allowed",
            _("Ce champ n'est pas modifiable par le fournisseur : %(fields)s. La qualification, ses dates et "
              "son numéro de décision relèvent de l'ANSSI ; l'état de publication, de la revue.")
            % {"fields": ", ".join(refused)},
            field=refused[0],
        )
    cleaned: dict = {}
    for name, value in values.items():
        if name in TEXT_LIMITS:
            cleaned[name] = _text(name, value)
        elif name == "service_model":
            if value not in ServiceModel.values:
                raise RuleViolation("invalid", _("Modèle de service inconnu : %(value)s.") % {"value": value},
                                    field=name)
            cleaned[name] = str(value)
        elif name == "list_price":
            cleaned[name] = _price(value)
        elif name == "locations":
            cleaned[name] = _locations(value)
        elif name == "certifications":
            cleaned[name] = _certifications(value)
    if "name" in cleaned and not cleaned["name"]:
        raise RuleViolation("required", _("Le nom de l'offre est obligatoire."), field="name")
    return cleaned


def _check_name_free(*, provider_id: int, name: str, exclude_pk: int | None = None) -> None:
    taken = Offer.objects.filter(provider_id=provider_id, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise RuleViolation("name_taken", _("Vous avez déjà une offre de ce nom."), field="name")


def _free_slug(text: str) -> str:
    max_length = Offer._meta.get_field("slug").max_length
    base = slugify(text)[: max_length - 4].strip("-") or "offre"
    slug, suffix = base, 2
    while Offer.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _apply_values(offer: Offer, values: dict) -> None:
    """Write canonical `values` on `offer`, its locations and its certifications (inside a transaction)."""
    for name in ("name", "service_model", "category", "description", "price_unit"):
        if name in values:
            setattr(offer, name, values[name])
    if "list_price" in values:
        offer.list_price = None if values["list_price"] is None else Decimal(values["list_price"])
    offer.save()
    if "locations" in values:
        wanted = set(values["locations"])
        offer.locations.exclude(country__in=wanted).delete()
        held = set(offer.locations.values_list("country", flat=True))
        OfferLocation.objects.bulk_create([OfferLocation(offer=offer, country=code) for code in sorted(wanted - held)])
        bump_after_commit()  # bulk_create() sends no post_save
    if "certifications" in values:
        wanted = {item["kind"]: item for item in values["certifications"]}
        offer.certifications.exclude(kind__in=wanted).delete()
        for kind, item in wanted.items():
            valid_until = date.fromisoformat(item["valid_until"]) if item["valid_until"] else None
            Certification.objects.update_or_create(
                offer=offer, kind=kind, defaults={"reference": item["reference"], "valid_until": valid_until})


def _changes(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields of `after` whose value differs."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _lock(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().select_related("provider").get(pk=offer.pk)


def _synced(offer: Offer, locked: Offer) -> Offer:
    """Bring the caller's `offer` up to date with the row the service wrote, and return it."""
    if offer is not locked:
        offer.refresh_from_db()
    return offer


# --- The pipeline -----------------------------------------------------------------------------------------


def _move(offer: Offer, *, to: str, user, decision: str, comment: str = "", changes: dict | None = None
          ) -> OfferReview:
    """Change `offer`'s publication state along OFFER_TRANSITIONS and record the decision. `offer` is locked."""
    if not can_move(offer.state, to):
        raise RuleViolation(
            "invalid_transition",
            _("Une offre « %(old)s » ne peut pas passer à l'état « %(new)s ».")
            % {"old": OfferState(offer.state).label, "new": OfferState(to).label},
            field="state",
        )
    state_from = offer.state
    offer.state = to
    update_fields = ["state", "updated_at"]
    if to == OfferState.PUBLISHED:
        offer.published_at = timezone.now()
        update_fields.append("published_at")
    offer.save(update_fields=update_fields)
    audit_record(actor=user, action=AuditAction.STATE_CHANGED, obj=offer, changes={"state": [state_from, to]},
                 reason=comment)
    return OfferReview.objects.create(offer=offer, decision=decision, state_from=state_from, state_to=to,
                                      comment=comment, changes=changes or {}, snapshot=offer_values(offer),
                                      actor=user)


def _require_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise RuleViolation("comment_required",
                            _("Un commentaire est obligatoire : il dit au fournisseur quoi modifier."),
                            field="comment")
    return comment


def offer_create(*, user, values: dict) -> Offer:
    """A new draft offer of the vendor's provider."""
    if not roles.is_vendor(user):
        raise PermissionDenied(_("Seuls les fournisseurs créent des offres."))
    provider = roles.provider_of(user)
    values = clean_offer_values(values)
    for required in ("name", "service_model"):
        if not values.get(required):
            raise RuleViolation("required", _("Ce champ est obligatoire."), field=required)
    try:
        with transaction.atomic():
            _check_name_free(provider_id=provider.pk, name=values["name"])
            offer = Offer(provider=provider, state=OfferState.DRAFT,
                          slug=_free_slug(values["name"] if slugify(values["name"]).startswith(slugify(provider.name))
                                          else f"{provider.name} {values['name']}"))
            _apply_values(offer, values)
            audit_record(actor=user, action=AuditAction.CREATED, obj=offer, changes={"state": [None, offer.state]})
    except IntegrityError:
        # The same name (or slug) written by a concurrent request between the check and the insert.
        raise RuleViolation("name_taken", _("Vous avez déjà une offre de ce nom."), field="name") from None
    return offer


def offer_update_draft(*, offer: Offer, user, values: dict) -> Offer:
    """Change a draft, or an offer sent back for changes, in place."""
    _ensure(EDIT, offer=offer, user=user)
    values = clean_offer_values(values)
    with transaction.atomic():
        locked = _lock(offer)
        if locked.state not in EDITABLE_STATES:
            raise RuleViolation("not_editable", _("Seuls un brouillon ou une offre à reprendre se modifient "
                                                  "directement."), field="state")
        if values.get("name"):
            _check_name_free(provider_id=locked.provider_id, name=values["name"], exclude_pk=locked.pk)
        _apply_values(locked, values)
    return _synced(offer, locked)


def offer_edit(*, offer: Offer, user, values: dict) -> Offer | OfferRevision:
    """The vendor's edit: in place for a draft, as a revision awaiting review for a published offer."""
    if offer.state in REVISABLE_STATES:
        return revision_propose(offer=offer, user=user, values=values)
    return offer_update_draft(offer=offer, user=user, values=values)


def _missing_for_review(offer: Offer) -> list[tuple[str, str]]:
    missing = []
    if not offer.description.strip():
        missing.append(("description", _("la description est vide")))
    if not offer.locations.exists():
        missing.append(("locations", _("aucun lieu d'hébergement des données n'est indiqué")))
    return missing


def offer_submit(*, offer: Offer, user) -> Offer:
    """Send a draft (or an offer sent back) to the catalogue managers for review."""
    _ensure(SUBMIT, offer=offer, user=user)
    with transaction.atomic():
        locked = _lock(offer)
        missing = _missing_for_review(locked) if can_move(locked.state, OfferState.SUBMITTED) else []
        if missing:
            raise RuleViolation("incomplete", _("L'offre est incomplète : %(missing)s.")
                                % {"missing": " ; ".join(reason for _field, reason in missing)},
                                reasons=[reason for _field, reason in missing], field=missing[0][0])
        previous = locked.reviews.filter(decision=ReviewDecision.CHANGES_REQUESTED).first()
        changes = _changes(previous.snapshot, offer_values(locked)) if previous else {}
        _move(locked, to=OfferState.SUBMITTED, user=user, decision=ReviewDecision.SUBMITTED, changes=changes)
        with _site_language():
            _tell_managers(
                title=_("Offre à revoir : %(offer)s") % {"offer": locked},
                body=_("%(provider)s soumet l'offre « %(offer)s » à la revue du catalogue.")
                % {"provider": locked.provider.name, "offer": locked.name},
                link=reverse("review:offer-detail", args=[locked.slug]),
            )
    return _synced(offer, locked)


def offer_withdraw(*, offer: Offer, user, comment: str = "") -> Offer:
    """Take a published offer out of the catalogue; a pending revision of it is dropped."""
    _ensure(WITHDRAW, offer=offer, user=user)
    with transaction.atomic():
        locked = _lock(offer)
        _move(locked, to=OfferState.WITHDRAWN, user=user, decision=ReviewDecision.WITHDRAWN,
              comment=(comment or "").strip())
        locked.revisions.filter(state=RevisionState.PENDING).update(state=RevisionState.SUPERSEDED,
                                                                    decided_at=timezone.now())
    return _synced(offer, locked)


def offer_publish(*, offer: Offer, user, comment: str = "") -> Offer:
    """Publish a submitted offer (catalogue managers)."""
    _ensure(PUBLISH, offer=offer, user=user)
    with transaction.atomic():
        locked = _lock(offer)
        _move(locked, to=OfferState.PUBLISHED, user=user, decision=ReviewDecision.PUBLISHED,
              comment=(comment or "").strip())
        with _site_language():
            _tell_vendors(locked, title=_("Offre publiée : %(offer)s") % {"offer": locked.name},
                          body=_("Votre offre « %(offer)s » est publiée au catalogue.") % {"offer": locked.name}
                          + _comment_line(comment))
    return _synced(offer, locked)


def offer_request_changes(*, offer: Offer, user, comment: str) -> Offer:
    """Send a submitted offer back to its vendor, saying what to change (catalogue managers)."""
    _ensure(REQUEST_CHANGES, offer=offer, user=user)
    comment = _require_comment(comment)
    with transaction.atomic():
        locked = _lock(offer)
        _move(locked, to=OfferState.CHANGES_REQUESTED, user=user, decision=ReviewDecision.CHANGES_REQUESTED,
              comment=comment)
        with _site_language():
            _tell_vendors(locked, title=_("Modifications demandées : %(offer)s") % {"offer": locked.name},
                          body=_("Le catalogue demande des modifications de l'offre « %(offer)s » avant publication.")
                          % {"offer": locked.name} + _comment_line(comment))
    return _synced(offer, locked)


# --- Revisions of published offers ---------------------------------------------------------------------------


def revision_propose(*, offer: Offer, user, values: dict) -> OfferRevision:
    """Propose changes to a published offer; they replace the vendor's pending proposal, if any.

    Values not given keep those of the pending proposal, then those published.
    """
    _ensure(EDIT, offer=offer, user=user)
    values = clean_offer_values(values)
    with transaction.atomic():
        locked = _lock(offer)
        if locked.state not in REVISABLE_STATES:
            raise RuleViolation("not_published", _("Seule une offre publiée se modifie par une proposition."),
                                field="state")
        live = offer_values(locked)
        pending = locked.revisions.filter(state=RevisionState.PENDING).first()
        proposed = {**live, **(pending.values if pending else {}), **values}
        changed = {name: value for name, value in proposed.items() if live[name] != value}
        if not changed:
            raise RuleViolation("no_changes", _("Rien ne change par rapport à la version publiée."))
        if "name" in changed:
            _check_name_free(provider_id=locked.provider_id, name=changed["name"], exclude_pk=locked.pk)
        if pending is not None:
            pending.state, pending.decided_at = RevisionState.SUPERSEDED, timezone.now()
            pending.save(update_fields=["state", "decided_at"])
        revision = OfferRevision.objects.create(offer=locked, values=changed,
                                                base_values={name: live[name] for name in changed}, author=user)
        OfferReview.objects.create(offer=locked, revision=revision, decision=ReviewDecision.REVISION_PROPOSED,
                                   state_from=locked.state, state_to=locked.state, changes=_changes(live, changed),
                                   snapshot=live, actor=user)
        audit_record(actor=user, action=AuditAction.CREATED, obj=revision, changes=_changes(live, changed))
        with _site_language():
            _tell_managers(
                title=_("Modification à revoir : %(offer)s") % {"offer": locked},
                body=_("%(provider)s propose de modifier l'offre publiée « %(offer)s ».")
                % {"provider": locked.provider.name, "offer": locked.name},
                link=reverse("review:revision-detail", args=[revision.pk]),
            )
    return revision


def _lock_revision(revision: OfferRevision) -> tuple[Offer, OfferRevision]:
    """Lock the offer, then the revision (always in this order), and check the revision awaits a decision."""
    offer = _lock(revision.offer)
    locked = OfferRevision.objects.select_for_update().get(pk=revision.pk)
    if locked.state != RevisionState.PENDING:
        raise RuleViolation("not_pending", _("Cette modification a déjà été traitée (%(state)s).")
                            % {"state": locked.get_state_display()}, field="state")
    return offer, locked


def revision_approve(*, revision: OfferRevision, user, comment: str = "") -> OfferRevision:
    """Apply a pending revision to the live offer in one transaction (catalogue managers)."""
    _ensure_manager(user)
    with transaction.atomic():
        offer, locked = _lock_revision(revision)
        live = offer_values(offer)
        changes = _changes(live, locked.values)
        if "name" in changes:
            _check_name_free(provider_id=offer.provider_id, name=locked.values["name"], exclude_pk=offer.pk)
        _apply_values(offer, locked.values)
        locked.state, locked.decided_at = RevisionState.APPROVED, timezone.now()
        locked.save(update_fields=["state", "decided_at"])
        OfferReview.objects.create(offer=offer, revision=locked, decision=ReviewDecision.REVISION_APPROVED,
                                   state_from=offer.state, state_to=offer.state, comment=(comment or "").strip(),
                                   changes=changes, snapshot=offer_values(offer), actor=user)
        audit_record(actor=user, action=AuditAction.CHANGED, obj=offer, changes=changes, reason=comment)
        with _site_language():
            _tell_vendors(offer, title=_("Modification publiée : %(offer)s") % {"offer": offer.name},
                          body=_("Votre modification de l'offre « %(offer)s » est approuvée et publiée.")
                          % {"offer": offer.name} + _comment_line(comment))
    if revision is not locked:
        revision.refresh_from_db()
    return revision


def revision_request_changes(*, revision: OfferRevision, user, comment: str) -> OfferRevision:
    """Send a proposed revision back to its vendor with a comment; the live offer stays as it is."""
    _ensure_manager(user)
    comment = _require_comment(comment)
    with transaction.atomic():
        offer, locked = _lock_revision(revision)
        locked.state, locked.decided_at = RevisionState.CHANGES_REQUESTED, timezone.now()
        locked.save(update_fields=["state", "decided_at"])
        OfferReview.objects.create(offer=offer, revision=locked,
                                   decision=ReviewDecision.REVISION_CHANGES_REQUESTED, state_from=offer.state,
                                   state_to=offer.state, comment=comment, snapshot=offer_values(offer), actor=user)
        audit_record(actor=user, action=AuditAction.STATE_CHANGED, obj=locked, reason=comment,
                     changes={"state": [RevisionState.PENDING.value, locked.state]})
        with _site_language():
            _tell_vendors(offer, title=_("Modification à reprendre : %(offer)s") % {"offer": offer.name},
                          body=_("Votre modification de l'offre « %(offer)s » n'est pas publiée : le catalogue demande "
                                 "des changements.") % {"offer": offer.name} + _comment_line(comment))
    if revision is not locked:
        revision.refresh_from_db()
    return revision


# --- Who is told ---------------------------------------------------------------------------------------------


def _comment_line(comment: str) -> str:
    comment = (comment or "").strip()
    return "\n\n" + _("Commentaire : %(comment)s") % {"comment": comment} if comment else ""


def _site_language():
    """Notifications are stored once for every reader: write them in the site's language."""
    return translation.override(settings.LANGUAGE_CODE)


def _tell_managers(*, title: str, body: str, link: str) -> None:
    managers = get_user_model().objects.filter(is_active=True, groups__name=roles.CATALOGUE_MANAGER)
    notify(recipients=managers.values_list("pk", flat=True), kind=NotificationKind.OFFER_REVIEW, title=title,
           body=body, link=link)


def _tell_vendors(offer: Offer, *, title: str, body: str) -> None:
    vendors = get_user_model().objects.filter(is_active=True, groups__name=roles.VENDOR,
                                              profile__provider_id=offer.provider_id)
    notify(recipients=vendors.values_list("pk", flat=True), kind=NotificationKind.OFFER_REVIEW, title=title,
           body=body, link=reverse("vendor:offer-detail", args=[offer.slug]))
