"""The curation trail: offer revisions awaiting review, review decisions, and provider profile changes.

A vendor's edit of a published offer does not touch the live offer: it is an
`OfferRevision` holding the proposed values, applied only when a catalogue
manager approves it. Every step of an offer's publication (submission, decision,
withdrawal, revision) is an `OfferReview` row: who, when, what changed and why.
A change to a provider's profile is a `ProviderChange`, flagged when it touches
the SecNumCloud §19.6 points.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalogue.models.offer import Offer, OfferState

# The offer fields a vendor keeps, in the order forms and diffs show them. Everything
# else (slug, publication state and dates, qualifications) is set by the platform,
# the review or ANSSI.
OFFER_EDITABLE_FIELDS = ("name", "service_model", "category", "description", "list_price", "price_unit",
                         "locations", "certifications")

# The provider fields a vendor keeps, and those that the SecNumCloud §19.6 check reads
# (seat and non-EU ownership) or that §19.2 and the customers' trust depend on (where
# data is kept and from where the service is run).
PROVIDER_EDITABLE_FIELDS = ("legal_name", "siren", "vat_number", "seat_country", "largest_non_eu_holding",
                            "total_non_eu_holding", "data_locations", "support_locations", "website")
SOVEREIGNTY_FIELDS = ("seat_country", "largest_non_eu_holding", "total_non_eu_holding", "data_locations",
                      "support_locations")


def json_value(value):
    """A field value as JSON keeps it: dates in ISO format, decimals as strings, the rest as is."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def offer_values(offer: Offer) -> dict:
    """The vendor-editable values of `offer`, JSON-ready, in a canonical form that compares reliably."""
    values = {name: json_value(getattr(offer, name)) for name in OFFER_EDITABLE_FIELDS[:6]}
    values["locations"] = sorted(location.country for location in offer.locations.all())
    values["certifications"] = sorted(
        ({"kind": c.kind, "reference": c.reference, "valid_until": json_value(c.valid_until)}
         for c in offer.certifications.all()),
        key=lambda certification: certification["kind"],
    )
    return values


class RevisionState(models.TextChoices):
    PENDING = "pending", _("En attente de revue")
    APPROVED = "approved", _("Approuvée")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    SUPERSEDED = "superseded", _("Remplacée")


class OfferRevision(models.Model):
    """Changes a vendor proposes to a published offer; the live offer is untouched until approval."""

    offer = models.ForeignKey(Offer, verbose_name=_("offre"), on_delete=models.CASCADE, related_name="revisions")
    values = models.JSONField(_("valeurs proposées"), default=dict,
                              help_text=_("Seulement les champs modifiés : {champ: nouvelle valeur}."))
    base_values = models.JSONField(_("valeurs publiées à la proposition"), default=dict,
                                   help_text=_("Les mêmes champs, tels que publiés quand la modification a été "
                                               "proposée : {champ: valeur}."))
    state = models.CharField(_("état"), max_length=20, choices=RevisionState.choices, default=RevisionState.PENDING,
                             db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposée par"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("proposée le"), auto_now_add=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("modification d'offre")
        verbose_name_plural = _("modifications d'offres")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["offer"], condition=Q(state=RevisionState.PENDING),
                                    name="one_pending_revision_per_offer"),
        ]

    def __str__(self) -> str:
        return f"{self.offer} — {self.get_state_display()}"

    @property
    def is_pending(self) -> bool:
        return self.state == RevisionState.PENDING


class ReviewDecision(models.TextChoices):
    SUBMITTED = "submitted", _("Soumise pour revue")
    PUBLISHED = "published", _("Publiée")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    WITHDRAWN = "withdrawn", _("Retirée du catalogue")
    REVISION_PROPOSED = "revision_proposed", _("Modification proposée")
    REVISION_APPROVED = "revision_approved", _("Modification approuvée")
    REVISION_CHANGES_REQUESTED = "revision_changes_requested", _("Modification à reprendre")


# Decisions that must say why: the vendor has to know what to change.
DECISIONS_WITH_COMMENT = (ReviewDecision.CHANGES_REQUESTED, ReviewDecision.REVISION_CHANGES_REQUESTED)
REVISION_DECISIONS = (ReviewDecision.REVISION_PROPOSED, ReviewDecision.REVISION_APPROVED,
                      ReviewDecision.REVISION_CHANGES_REQUESTED)


class OfferReview(models.Model):
    """One step of an offer's publication: who, when, the state before and after, the comment, what changed."""

    offer = models.ForeignKey(Offer, verbose_name=_("offre"), on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(OfferRevision, verbose_name=_("modification"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(_("décision"), max_length=30, choices=ReviewDecision.choices)
    state_from = models.CharField(_("état avant"), max_length=20, choices=OfferState.choices, blank=True)
    state_to = models.CharField(_("état après"), max_length=20, choices=OfferState.choices, blank=True)
    comment = models.TextField(_("commentaire"), blank=True)
    changes = models.JSONField(_("modifications"), default=dict, blank=True,
                               help_text=_("Pour chaque champ modifié : [avant, après]."))
    snapshot = models.JSONField(_("valeurs de l'offre"), default=dict, blank=True,
                                help_text=_("Les valeurs de l'offre au moment de la décision."))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("décision de revue")
        verbose_name_plural = _("historique des revues")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(decision__in=DECISIONS_WITH_COMMENT) | ~Q(comment=""),
                                   name="offer_review_changes_need_comment"),
            models.CheckConstraint(condition=~Q(decision__in=REVISION_DECISIONS) | Q(revision__isnull=False),
                                   name="offer_review_revision_decision_has_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.offer} — {self.get_decision_display()}"

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor else str(_("système"))


class ProviderChange(models.Model):
    """One change to a provider's profile: who, when, what (before and after), and whether §19.6 is concerned."""

    provider = models.ForeignKey("catalogue.Provider", verbose_name=_("fournisseur"), on_delete=models.CASCADE,
                                 related_name="changes")
    changes = models.JSONField(_("modifications"), help_text=_("Pour chaque champ modifié : [avant, après]."))
    affects_sovereignty = models.BooleanField(
        _("touche au §19.6"), default=False,
        help_text=_("Siège, détention hors UE, lieux d'hébergement ou de support : les clients doivent en être "
                    "informés dans le mois."),
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("changement de profil fournisseur")
        verbose_name_plural = _("historique des profils fournisseurs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider} — {self.created_at:%Y-%m-%d}"


__all__ = ["OFFER_EDITABLE_FIELDS", "PROVIDER_EDITABLE_FIELDS", "SOVEREIGNTY_FIELDS", "DECISIONS_WITH_COMMENT",
           "OfferReview", "OfferRevision", "ProviderChange", "ReviewDecision", "RevisionState", "json_value",
           "offer_values"]
