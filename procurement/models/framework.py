"""Framework contracts (accords-cadres), their lots and the offers referenced in them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

COMMITTED_AMOUNT_HELP = _(
    "Tenu à jour par les services de commande sous les verrous de l'accord-cadre et du lot : égal à la somme "
    "des commandes soumises, validées et exécutées."
)


def committed_amount_field() -> models.DecimalField:
    """The running total of committed orders that framework contracts and lots keep (see adjust_commitment)."""
    return models.DecimalField(_("montant engagé HT (€)"), max_digits=14, decimal_places=2, default=Decimal("0"),
                               editable=False, help_text=COMMITTED_AMOUNT_HELP)


class KeepsCommittedAmount(models.Model):
    """A row whose `committed_amount` only the order services write, with queryset updates under its row lock.

    An ordinary save() of an existing row (an admin form, a seed's get_or_create) writes every other field
    but never this one: a value read before a concurrent submission must not overwrite its commitment.
    """

    committed_amount = committed_amount_field()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [field.name for field in self._meta.concrete_fields
                                       if not field.primary_key and field.name != "committed_amount"]
        super().save(*args, **kwargs)


class FrameworkStatus(models.TextChoices):
    UPCOMING = "upcoming", _("À venir")
    IN_FORCE = "in_force", _("En vigueur")
    ENDED = "ended", _("Échu")
    TERMINATED = "terminated", _("Résilié")


class FrameworkContract(KeepsCommittedAmount):
    reference = models.CharField(_("référence"), max_length=60, unique=True)
    slug = models.SlugField(_("identifiant d'URL"), max_length=80, unique=True)
    title = models.CharField(_("intitulé"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    purchasing_body = models.CharField(_("acheteur (centrale d'achat)"), max_length=200)
    holder = models.CharField(_("titulaire"), max_length=200, help_text=_("Le courtier titulaire de l'accord-cadre."))
    starts_on = models.DateField(_("début"))
    ends_on = models.DateField(_("fin"))
    ceiling = models.DecimalField(_("montant maximum HT (€)"), max_digits=14, decimal_places=2,
                                  validators=[MinValueValidator(Decimal("0.01"))])
    discount_percent = models.DecimalField(
        _("remise (%)"), max_digits=5, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Remise consentie sur le prix catalogue des offres référencées."),
    )
    terminated_on = models.DateField(_("résilié le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("accord-cadre")
        verbose_name_plural = _("accords-cadres")
        ordering = ["-starts_on", "reference"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="framework_ends_after_start"),
            models.CheckConstraint(condition=Q(ceiling__gt=0), name="framework_ceiling_positive"),
            models.CheckConstraint(condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                                   name="framework_discount_percent"),
            models.CheckConstraint(condition=Q(committed_amount__gte=0), name="framework_committed_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("procurement:framework-detail", args=[self.slug])

    def status_on(self, day: date) -> str:
        """The status on `day`: derived from the dates, or terminated once resiliated."""
        if self.terminated_on and day >= self.terminated_on:
            return FrameworkStatus.TERMINATED
        if day < self.starts_on:
            return FrameworkStatus.UPCOMING
        if day > self.ends_on:
            return FrameworkStatus.ENDED
        return FrameworkStatus.IN_FORCE

    def covers(self, start: date, end: date) -> bool:
        """True when the framework is in force over the whole period."""
        last_day = self.ends_on
        if self.terminated_on:
            last_day = min(last_day, self.terminated_on - timedelta(days=1))
        return self.starts_on <= start and end <= last_day


class Lot(KeepsCommittedAmount):
    framework = models.ForeignKey(FrameworkContract, verbose_name=_("accord-cadre"), on_delete=models.CASCADE,
                                  related_name="lots")
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("intitulé"), max_length=200)
    service_model = models.CharField(_("modèle de service"), max_length=4, blank=True,
                                     help_text=_("Vide si le lot couvre plusieurs modèles."))
    ceiling = models.DecimalField(_("montant maximum du lot HT (€)"), max_digits=14, decimal_places=2,
                                  null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))])
    offers = models.ManyToManyField("catalogue.Offer", through="Referencing", related_name="lots",
                                    verbose_name=_("offres référencées"))

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["framework", "number"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="lot_number_unique"),
            models.CheckConstraint(condition=Q(ceiling__isnull=True) | Q(ceiling__gt=0),
                                   name="lot_ceiling_positive"),
            models.CheckConstraint(condition=Q(committed_amount__gte=0), name="lot_committed_not_negative"),
        ]

    def __str__(self) -> str:
        return _("Lot %(number)s — %(title)s") % {"number": self.number, "title": self.title}


class Referencing(models.Model):
    """An offer referenced in a lot, orderable at its list price less the discount."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="referencings")
    offer = models.ForeignKey("catalogue.Offer", verbose_name=_("offre"), on_delete=models.PROTECT,
                              related_name="referencings")
    discount_percent = models.DecimalField(
        _("remise spécifique (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Vide : la remise de l'accord-cadre s'applique."),
    )
    referenced_on = models.DateField(_("référencée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("référencement")
        verbose_name_plural = _("référencements")
        constraints = [
            models.UniqueConstraint(fields=["lot", "offer"], name="referencing_unique"),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True) | Q(discount_percent__gte=0, discount_percent__lte=100),
                name="referencing_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} · {self.offer}"

    @property
    def effective_discount(self) -> Decimal:
        if self.discount_percent is not None:
            return self.discount_percent
        return self.lot.framework.discount_percent
