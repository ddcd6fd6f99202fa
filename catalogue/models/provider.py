"""Providers: who sells the cloud, where their seat is and who owns them (§19.6)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalogue import doctrine
from catalogue.countries import COUNTRY_CHOICES
from catalogue.freshness import bump_after_commit
from catalogue.models.offer import Offer

siren_validator = RegexValidator(r"^\d{9}$", _("Un SIREN compte exactement 9 chiffres."))
percent_validators = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Provider(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    slug = models.SlugField(_("identifiant d'URL"), max_length=200, unique=True)
    legal_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, validators=[siren_validator])
    vat_number = models.CharField(_("numéro de TVA intracommunautaire"), max_length=20, blank=True)
    seat_country = models.CharField(
        _("pays du siège"), max_length=2, choices=COUNTRY_CHOICES,
        help_text=_("Pays du siège statutaire, de l'administration centrale et de l'établissement principal."),
    )
    largest_non_eu_holding = models.DecimalField(
        _("plus forte détention hors UE (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=percent_validators,
        help_text=_("Part du capital ou des droits de vote détenue par la plus grande entité hors UE. "
                    "Plafond SecNumCloud : 24 %."),
    )
    total_non_eu_holding = models.DecimalField(
        _("détention totale hors UE (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=percent_validators,
        help_text=_("Part cumulée détenue par des entités hors UE. Plafond SecNumCloud : 39 %."),
    )
    data_locations = models.JSONField(
        _("pays d'hébergement des données"), default=list, blank=True,
        help_text=_("Codes pays ISO 3166 où les données des clients sont stockées et traitées."),
    )
    support_locations = models.JSONField(
        _("pays du support et de l'administration"), default=list, blank=True,
        help_text=_("Codes pays ISO 3166 d'où le service est administré et supporté."),
    )
    website = models.URLField(_("site web"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("fournisseur")
        verbose_name_plural = _("fournisseurs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["siren"], condition=~Q(siren=""), name="provider_siren_unique"),
            models.CheckConstraint(
                condition=Q(largest_non_eu_holding__isnull=True)
                | Q(largest_non_eu_holding__gte=0, largest_non_eu_holding__lte=100),
                name="provider_largest_holding_percent",
            ),
            models.CheckConstraint(
                condition=Q(total_non_eu_holding__isnull=True)
                | Q(total_non_eu_holding__gte=0, total_non_eu_holding__lte=100),
                name="provider_total_holding_percent",
            ),
            models.CheckConstraint(
                condition=Q(largest_non_eu_holding__isnull=True) | Q(total_non_eu_holding__isnull=True)
                | Q(largest_non_eu_holding__lte=F("total_non_eu_holding")),
                name="provider_largest_holding_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        self.refresh_offer_copies()

    def get_absolute_url(self) -> str:
        return reverse("catalogue:provider-detail", args=[self.slug])

    def refresh_offer_copies(self) -> int:
        """After a rename, refresh the offers' copies of the name (sort key, search text); how many changed.

        Every offer save copies its provider's name; this covers the other way round, and any path that
        changes the name with `update()` must call it too (the admin does)."""
        stale = list(Offer.objects.filter(provider=self).exclude(provider_name=self.name))
        for offer in stale:
            offer.provider = self
            offer.copy_provider_name()
        if stale:
            Offer.objects.bulk_update(stale, ["provider_name", "search_document"])
            bump_after_commit()  # bulk_update() sends no post_save
        return len(stale)

    def facts(self) -> doctrine.ProviderFacts:
        return doctrine.ProviderFacts(
            name=self.name,
            seat_country=self.seat_country,
            largest_non_eu_holding=self.largest_non_eu_holding,
            total_non_eu_holding=self.total_non_eu_holding,
        )

    @property
    def sovereignty_failures(self) -> list[str]:
        """Reasons the provider fails SecNumCloud §19.6 (empty when it passes)."""
        return doctrine.sovereignty_failures(self.facts())

    @property
    def passes_sovereignty(self) -> bool:
        return not self.sovereignty_failures
