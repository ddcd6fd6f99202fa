"""The audit trail: one append-only row per change of a qualification, an offer, an order, a framework,
a provider's profile or ownership, or a user's role.

The histories of each aggregate (QualificationEvent, OfferReview, ProviderChange,
OrderEvent) stay where their pages read them; this table gathers every change in
one place for ANSSI staff and catalogue managers. Rows are never changed or
deleted: the admin offers no such permission, no URL writes here, and on
PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002). The actor is
kept as an id without a foreign-key constraint, plus the username at the time,
so deleting a user never touches the trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CREATED = "created", _("Création")
    CHANGED = "changed", _("Modification")
    DELETED = "deleted", _("Suppression")
    STATE_CHANGED = "state_changed", _("Changement d'état")
    RENEWED = "renewed", _("Nouvelle décision")
    ROLE_GRANTED = "role_granted", _("Rôle accordé")
    ROLE_REVOKED = "role_revoked", _("Rôle retiré")


class AuditTarget(models.TextChoices):
    """The kinds of object the trail follows (the model's `app_label.model_name`)."""

    QUALIFICATION = "catalogue.qualification", _("Qualification")
    OFFER = "catalogue.offer", _("Offre")
    OFFER_REVISION = "catalogue.offerrevision", _("Modification d'offre")
    OFFER_LOCATION = "catalogue.offerlocation", _("Lieu d'hébergement d'une offre")
    CERTIFICATION = "catalogue.certification", _("Certification d'une offre")
    PROVIDER = "catalogue.provider", _("Fournisseur")
    ORDER = "procurement.order", _("Commande")
    FRAMEWORK = "procurement.frameworkcontract", _("Accord-cadre")
    LOT = "procurement.lot", _("Lot")
    REFERENCING = "procurement.referencing", _("Référencement")
    USER_PROFILE = "procurement.userprofile", _("Rattachement d'un utilisateur")
    USER = "auth.user", _("Utilisateur")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True, related_name="+",
        # No constraint and no cascade: deleting a user must never update or delete the trail.
        on_delete=models.DO_NOTHING, db_constraint=False,
    )
    actor_username = models.CharField(_("identifiant de l'auteur"), max_length=150, blank=True,
                                      help_text=_("Vide pour un traitement automatique."))
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("type d'objet"), max_length=60, choices=AuditTarget.choices, db_index=True)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64)
    object_repr = models.CharField(_("objet"), max_length=300)
    changes = models.JSONField(_("modifications"), default=dict, blank=True,
                               help_text=_("Pour chaque champ modifié : [avant, après]."))
    reason = models.TextField(_("motif"), blank=True)

    class Meta:
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_object_type_display()} {self.object_repr}"

    @property
    def actor_label(self) -> str:
        return self.actor_username or str(_("système"))
