"""SecNumCloud qualifications: one current decision per offer, a full history of changes."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalogue import doctrine


class QualificationStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", doctrine.QUALIFICATION_STATUS_LABELS["in_progress"]
    QUALIFIED = "qualified", doctrine.QUALIFICATION_STATUS_LABELS["qualified"]
    SUSPENDED = "suspended", doctrine.QUALIFICATION_STATUS_LABELS["suspended"]
    REVOKED = "revoked", doctrine.QUALIFICATION_STATUS_LABELS["revoked"]
    EXPIRED = "expired", doctrine.QUALIFICATION_STATUS_LABELS["expired"]


class Milestone(models.TextChoices):
    J0 = "J0", _("J0 — demande recevable")
    J1 = "J1", _("J1 — évaluation en cours")
    J2 = "J2", _("J2 — décision imminente")


# Status changes a qualifier may make on one decision. A renewal is a new decision (a new row).
QUALIFICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    QualificationStatus.IN_PROGRESS: frozenset({QualificationStatus.QUALIFIED, QualificationStatus.REVOKED}),
    QualificationStatus.QUALIFIED: frozenset(
        {QualificationStatus.SUSPENDED, QualificationStatus.REVOKED, QualificationStatus.EXPIRED}
    ),
    QualificationStatus.SUSPENDED: frozenset(
        {QualificationStatus.QUALIFIED, QualificationStatus.REVOKED, QualificationStatus.EXPIRED}
    ),
    QualificationStatus.REVOKED: frozenset(),
    QualificationStatus.EXPIRED: frozenset(),
}

# The database cannot count calendar years portably; 1,096 days bounds three years
# (leap day included). Python checks the exact date (doctrine.three_years_after).
MAX_VALIDITY_DAYS = 3 * 365 + 1


class Qualification(models.Model):
    offer = models.ForeignKey("catalogue.Offer", verbose_name=_("offre"), on_delete=models.CASCADE,
                              related_name="qualifications")
    is_current = models.BooleanField(_("décision en vigueur"), default=True,
                                     help_text=_("Une seule décision en vigueur par offre ; "
                                                 "les précédentes restent dans l'historique."))
    status = models.CharField(_("statut"), max_length=20, choices=QualificationStatus.choices, db_index=True)
    milestone = models.CharField(_("jalon"), max_length=2, choices=Milestone.choices, blank=True,
                                 help_text=_("Uniquement pour une qualification en cours."))
    referential_version = models.CharField(_("version du référentiel"), max_length=10, default="3.2")
    decision_number = models.CharField(_("numéro de décision ANSSI"), max_length=40, blank=True)
    qualified_on = models.DateField(_("qualifiée le"), null=True, blank=True)
    valid_until = models.DateField(
        _("valable jusqu'au"), null=True, blank=True, db_index=True,
        help_text=_("Par défaut trois ans après la date de qualification, jamais au-delà."),
    )
    conditions = models.TextField(_("conditions et réserves"), blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("qualification SecNumCloud")
        verbose_name_plural = _("qualifications SecNumCloud")
        ordering = ["-is_current", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["offer"], condition=Q(is_current=True),
                                    name="one_current_qualification_per_offer"),
            models.CheckConstraint(
                condition=Q(qualified_on__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("qualified_on")),
                name="qualification_valid_after_qualified",
            ),
            models.CheckConstraint(
                condition=Q(qualified_on__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__lte=F("qualified_on") + timedelta(days=MAX_VALIDITY_DAYS)),
                name="qualification_at_most_three_years",
            ),
            models.CheckConstraint(
                condition=Q(milestone="") | Q(status=QualificationStatus.IN_PROGRESS),
                name="qualification_milestone_only_in_progress",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], condition=Q(is_current=True),
                         name="qualification_current_idx"),
        ]

    def __str__(self) -> str:
        number = f" n° {self.decision_number}" if self.decision_number else ""
        return f"{self.get_status_display()}{number}"

    def save(self, *args, **kwargs) -> None:
        if self.qualified_on and not self.valid_until:
            self.valid_until = doctrine.three_years_after(self.qualified_on)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = validate_dates(qualified_on=self.qualified_on, valid_until=self.valid_until)
        if self.milestone and self.status != QualificationStatus.IN_PROGRESS:
            errors["milestone"] = _("Un jalon ne s'indique que pour une qualification en cours.")
        if errors:
            raise ValidationError(errors)

    def facts(self) -> doctrine.QualificationFacts:
        return doctrine.QualificationFacts(status=self.status, qualified_on=self.qualified_on,
                                           valid_until=self.valid_until)

    def days_left(self, *, today: date) -> int | None:
        """Days until the end of validity (negative once past), None when unknown."""
        if self.valid_until is None:
            return None
        return (self.valid_until - today).days


def validate_dates(*, qualified_on: date | None, valid_until: date | None) -> dict:
    """The date rules of a decision, as field errors (empty when they hold)."""
    errors: dict = {}
    if qualified_on and valid_until:
        if valid_until < qualified_on:
            errors["valid_until"] = _("La fin de validité ne peut précéder la date de qualification.")
        elif valid_until > doctrine.three_years_after(qualified_on):
            errors["valid_until"] = _(
                "Une qualification vaut au plus trois ans : fin de validité au plus tard le %(max)s."
            ) % {"max": doctrine.three_years_after(qualified_on).isoformat()}
    return errors


class QualificationEvent(models.Model):
    """One change to a qualification: who (empty for the system), when, why, and what changed."""

    qualification = models.ForeignKey(Qualification, verbose_name=_("qualification"), on_delete=models.CASCADE,
                                      related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              help_text=_("Vide lorsque le changement est fait par le système."))
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    reason = models.TextField(_("motif"))
    status_from = models.CharField(_("statut avant"), max_length=20, choices=QualificationStatus.choices,
                                   blank=True)
    status_to = models.CharField(_("statut après"), max_length=20, choices=QualificationStatus.choices)
    changes = models.JSONField(_("modifications"), default=dict, blank=True,
                               help_text=_("Pour chaque champ modifié : [avant, après]."))

    class Meta:
        verbose_name = _("changement de qualification")
        verbose_name_plural = _("historique des qualifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="qualification_event_has_reason")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.status_from or '∅'} → {self.status_to}"

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor else str(_("système"))


class QualificationAlert(models.Model):
    """An expiry warning, raised once per decision and threshold (180, 90, 30, 7 days before)."""

    THRESHOLDS = (180, 90, 30, 7)

    qualification = models.ForeignKey(Qualification, verbose_name=_("qualification"), on_delete=models.CASCADE,
                                      related_name="alerts")
    threshold_days = models.PositiveSmallIntegerField(_("seuil (jours)"))
    valid_until = models.DateField(_("fin de validité annoncée"))
    raised_on = models.DateField(_("levée le"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("alerte d'échéance")
        verbose_name_plural = _("alertes d'échéance")
        ordering = ["-raised_on", "threshold_days"]
        constraints = [
            models.UniqueConstraint(fields=["qualification", "threshold_days"],
                                    name="one_alert_per_decision_and_threshold"),
        ]

    def __str__(self) -> str:
        return f"J-{self.threshold_days} {self.qualification}"
