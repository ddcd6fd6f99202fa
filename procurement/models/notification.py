"""In-app notifications, each also an e-mail sent through an outbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    QUALIFICATION_EXPIRING = "qualification_expiring", _("Échéance de qualification")
    QUALIFICATION_EXPIRED = "qualification_expired", _("Qualification expirée")
    QUALIFICATION_CHANGED = "qualification_changed", _("Qualification modifiée")
    CONTINUITY_RISK = "continuity_risk", _("Risque de continuité")
    ORDER = "order", _("Commande")
    OFFER_REVIEW = "offer_review", _("Revue d'offre")
    PROVIDER_CHANGED = "provider_changed", _("Changement chez un fournisseur")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("destinataire"), on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(_("type"), max_length=30, choices=NotificationKind.choices)
    title = models.CharField(_("titre"), max_length=250)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("lien"), max_length=300, blank=True)
    dedup_key = models.CharField(
        _("clé d'unicité"), max_length=150, null=True, blank=True,
        help_text=_("Empêche d'envoyer deux fois la même notification au même destinataire."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("courriel envoyé le"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("tentatives d'envoi"), default=0)
    email_last_error = models.TextField(_("dernière erreur d'envoi"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedup_key"], condition=Q(dedup_key__isnull=False),
                                    name="notification_dedup_unique"),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx"),
            models.Index(fields=["created_at"], condition=Q(email_sent_at__isnull=True),
                         name="notification_outbox_idx"),
        ]

    def __str__(self) -> str:
        return self.title
