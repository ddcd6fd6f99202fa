"""Offers: a provider's cloud service, its publication state, locations and certifications."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalogue import doctrine
from catalogue.countries import COUNTRY_CHOICES
from catalogue.search import normalize


class ServiceModel(models.TextChoices):
    IAAS = "IaaS", "IaaS"
    PAAS = "PaaS", "PaaS"
    CAAS = "CaaS", "CaaS"
    SAAS = "SaaS", "SaaS"


class OfferState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Soumise pour revue")
    CHANGES_REQUESTED = "changes_requested", _("Modifications demandées")
    PUBLISHED = "published", _("Publiée")
    WITHDRAWN = "withdrawn", _("Retirée")


# The publication pipeline: from each state, the states it may move to.
OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferState.DRAFT: frozenset({OfferState.SUBMITTED}),
    OfferState.SUBMITTED: frozenset({OfferState.PUBLISHED, OfferState.CHANGES_REQUESTED}),
    OfferState.CHANGES_REQUESTED: frozenset({OfferState.SUBMITTED}),
    OfferState.PUBLISHED: frozenset({OfferState.WITHDRAWN}),
    OfferState.WITHDRAWN: frozenset(),
}


class Offer(models.Model):
    provider = models.ForeignKey(
        "catalogue.Provider", verbose_name=_("fournisseur"), on_delete=models.PROTECT, related_name="offers"
    )
    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant d'URL"), max_length=220, unique=True)
    service_model = models.CharField(_("modèle de service"), max_length=4, choices=ServiceModel.choices)
    category = models.CharField(_("catégorie"), max_length=100, blank=True,
                                help_text=_("Par exemple : calcul, stockage, collaboration, conteneurs."))
    description = models.TextField(_("description"), blank=True)
    list_price = models.DecimalField(
        _("prix catalogue HT (€)"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    price_unit = models.CharField(_("unité de prix"), max_length=60, blank=True,
                                  help_text=_("Par exemple : « par vCPU et par mois »."))
    state = models.CharField(_("état de publication"), max_length=20, choices=OfferState.choices,
                             default=OfferState.DRAFT, db_index=True)
    provider_name = models.CharField(
        _("nom du fournisseur"), max_length=200, editable=False, default="",
        help_text=_("Copie du nom du fournisseur, pour trier le catalogue sans jointure."),
    )
    search_document = models.TextField(
        _("texte de recherche"), blank=True, editable=False,
        help_text=_("Nom, fournisseur, catégorie et description sans accents ni majuscules."),
    )
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("offre")
        verbose_name_plural = _("offres")
        ordering = ["provider_name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="offer_name_unique_per_provider"),
            models.CheckConstraint(condition=Q(list_price__isnull=True) | Q(list_price__gte=0),
                                   name="offer_list_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["state", "service_model"], name="offer_state_model_idx"),
            # The published catalogue in its default order (provider, then name): paged from the index
            # alone, even a deep page, without joining the providers or sorting every offer.
            models.Index(fields=["provider_name", "name", "id"], condition=Q(state=OfferState.PUBLISHED),
                         name="offer_published_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider.name} — {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.copy_provider_name()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "provider_name", "search_document"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalogue:offer-detail", args=[self.slug])

    def copy_provider_name(self) -> None:
        """Refresh what the offer copies from its provider: the sort key and the search text."""
        self.provider_name = self.provider.name
        self.search_document = self.build_search_document()

    def build_search_document(self) -> str:
        return normalize(" ".join([self.name, self.provider.name, self.category, self.service_model,
                                   self.description]))

    @property
    def is_published(self) -> bool:
        return self.state == OfferState.PUBLISHED

    @property
    def current_qualification(self):
        """The current qualification, using a prefetched `current_qualifications` list when present."""
        prefetched = getattr(self, "current_qualifications", None)
        if prefetched is not None:
            return prefetched[0] if prefetched else None
        return self.qualifications.filter(is_current=True).first()

    def _related(self, name: str):
        """The rows of a reverse relation: the prefetched ones when the selector loaded them.

        Reads the prefetch cache directly: `self.<name>.all()` would build a manager and clone a
        queryset on every call, which a page of cards repeats many times (measured by bench/run.py).
        """
        cache = getattr(self, "_prefetched_objects_cache", {})
        return cache[name] if name in cache else getattr(self, name).all()

    @property
    def country_codes(self) -> tuple[str, ...]:
        return tuple(loc.country for loc in self._related("locations"))

    def facts(self) -> doctrine.OfferFacts:
        """The facts the doctrine reads. Uses prefetched relations when the selector loaded them."""
        qualification = self.current_qualification
        return doctrine.OfferFacts(
            published=self.is_published,
            provider=self.provider.facts(),
            data_locations=self.country_codes,
            qualification=qualification.facts() if qualification else None,
            certifications={c.kind: c.valid_until for c in self._related("certifications")},
        )


class OfferLocation(models.Model):
    offer = models.ForeignKey(Offer, verbose_name=_("offre"), on_delete=models.CASCADE, related_name="locations")
    country = models.CharField(_("pays"), max_length=2, choices=COUNTRY_CHOICES)

    class Meta:
        verbose_name = _("lieu d'hébergement")
        verbose_name_plural = _("lieux d'hébergement")
        ordering = ["country"]
        constraints = [models.UniqueConstraint(fields=["offer", "country"], name="offer_location_unique")]
        indexes = [models.Index(fields=["country", "offer"], name="offer_location_country_idx")]

    def __str__(self) -> str:
        return self.get_country_display()


class CertificationKind(models.TextChoices):
    HDS = "hds", _("HDS (hébergeur de données de santé)")
    ISO_27001 = "iso27001", "ISO/IEC 27001"
    EUCS_BASIC = "eucs_basic", _("EUCS basique")
    EUCS_SUBSTANTIAL = "eucs_substantial", _("EUCS substantiel")
    EUCS_HIGH = "eucs_high", _("EUCS élevé")
    BSI_C5_TYPE1 = "bsi_c5_type1", _("BSI C5 (type 1)")
    BSI_C5_TYPE2 = "bsi_c5_type2", _("BSI C5 (type 2)")


class Certification(models.Model):
    offer = models.ForeignKey(Offer, verbose_name=_("offre"), on_delete=models.CASCADE,
                              related_name="certifications")
    kind = models.CharField(_("certification"), max_length=20, choices=CertificationKind.choices)
    reference = models.CharField(_("référence du certificat"), max_length=100, blank=True)
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True,
                                   help_text=_("Laisser vide si la date n'est pas connue."))

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["offer", "kind"], name="certification_unique_per_offer")]
        # The certification filter and facet: every offer holding a kind.
        indexes = [models.Index(fields=["kind", "offer"], name="certification_kind_idx")]

    def __str__(self) -> str:
        return self.get_kind_display()


__all__ = ["Offer", "OfferState", "OFFER_TRANSITIONS", "ServiceModel", "OfferLocation",
           "Certification", "CertificationKind"]
