"""Purchase orders (bons de commande) under a framework lot, and their status history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalogue import doctrine
from catalogue.models import QualificationStatus

SENSITIVITY_CHOICES = [(key, label) for key, label in doctrine.SENSITIVITY_LABELS.items()]


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise")
    APPROVED = "approved", _("Validée")
    REJECTED = "rejected", _("Rejetée")
    FULFILLED = "fulfilled", _("Exécutée")
    CANCELLED = "cancelled", _("Annulée")


# The order pipeline: from each status, the statuses it may move to.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.SUBMITTED, OrderStatus.CANCELLED}),
    OrderStatus.SUBMITTED: frozenset({OrderStatus.APPROVED, OrderStatus.REJECTED, OrderStatus.CANCELLED}),
    OrderStatus.APPROVED: frozenset({OrderStatus.FULFILLED, OrderStatus.CANCELLED}),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.FULFILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Orders in these statuses count against the framework's and the lot's ceilings.
COMMITTED_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.APPROVED, OrderStatus.FULFILLED)


class Order(models.Model):
    reference = models.CharField(_("référence"), max_length=30, unique=True)
    organisation = models.ForeignKey("procurement.Organisation", verbose_name=_("administration"),
                                     on_delete=models.PROTECT, related_name="orders")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("créée par"), on_delete=models.PROTECT,
                                   related_name="orders_created")
    framework = models.ForeignKey("procurement.FrameworkContract", verbose_name=_("accord-cadre"),
                                  on_delete=models.PROTECT, related_name="orders")
    lot = models.ForeignKey("procurement.Lot", verbose_name=_("lot"), on_delete=models.PROTECT,
                            related_name="orders")
    offer = models.ForeignKey("catalogue.Offer", verbose_name=_("offre"), on_delete=models.PROTECT,
                              related_name="orders")
    search = models.ForeignKey("procurement.RecordedSearch", verbose_name=_("recherche enregistrée"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="orders")
    quantity = models.PositiveIntegerField(_("quantité"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("prix unitaire HT (€)"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("montant HT (€)"), max_digits=14, decimal_places=2)
    sensitivity = models.CharField(_("sensibilité des données"), max_length=20, choices=SENSITIVITY_CHOICES)
    starts_on = models.DateField(_("début du service"))
    ends_on = models.DateField(_("fin du service"))
    justification = models.TextField(_("justification du besoin"))
    status = models.CharField(_("statut"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT,
                              db_index=True)
    # Snapshots taken at submission: what was bought, from whom, on what qualification.
    offer_name = models.CharField(_("offre (à la soumission)"), max_length=200, blank=True)
    provider_name = models.CharField(_("fournisseur (à la soumission)"), max_length=200, blank=True)
    qualification_status = models.CharField(_("qualification (à la soumission)"), max_length=20, blank=True,
                                            choices=QualificationStatus.choices)
    qualification_valid_until = models.DateField(_("fin de qualification (à la soumission)"), null=True,
                                                 blank=True)
    eligibility = models.JSONField(_("verdict de la doctrine"), default=dict, blank=True)
    continuity_risk = models.BooleanField(
        _("risque de continuité"), default=False,
        help_text=_("La qualification de l'offre prend fin avant la fin du service."),
    )
    idempotency_key = models.CharField(_("clé d'idempotence"), max_length=100, null=True, blank=True)
    submitted_at = models.DateTimeField(_("soumise le"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("décidée par"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="orders_decided")
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("bon de commande")
        verbose_name_plural = _("bons de commande")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="order_ends_after_start"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(unit_price__gte=0),
                                   name="order_amount_not_negative"),
            models.UniqueConstraint(fields=["created_by", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False),
                                    name="order_idempotency_key_unique"),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"], name="order_org_status_idx"),
            # An administration's orders, newest first (the order list), without sorting them all.
            models.Index(fields=["organisation", "-created_at", "-id"], name="order_org_created_idx"),
            # What is committed on a framework or a lot, summed from the index alone on PostgreSQL.
            models.Index(fields=["framework", "status"], include=["lot", "amount"], name="order_framework_status_idx"),
            models.Index(fields=["lot", "status"], include=["amount"], name="order_lot_status_idx"),
            models.Index(fields=["offer", "status"], name="order_offer_status_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("procurement:order-detail", args=[self.reference])

    @property
    def is_committed(self) -> bool:
        return self.status in COMMITTED_STATUSES


class OrderEvent(models.Model):
    """One status change of an order: who, when, from what to what, and why."""

    order = models.ForeignKey(Order, verbose_name=_("bon de commande"), on_delete=models.CASCADE,
                              related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("date"), auto_now_add=True)
    status_from = models.CharField(_("statut avant"), max_length=20, choices=OrderStatus.choices, blank=True)
    status_to = models.CharField(_("statut après"), max_length=20, choices=OrderStatus.choices)
    reason = models.TextField(_("motif"), blank=True)

    class Meta:
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique des commandes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order} {self.status_from or '∅'} → {self.status_to}"


__all__ = ["Order", "OrderEvent", "OrderStatus", "ORDER_TRANSITIONS", "COMMITTED_STATUSES"]
