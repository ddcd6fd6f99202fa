"""Recorded searches: a frozen copy of a catalogue search for the procurement file."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalogue.models import QualificationStatus


class RecordedSearch(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), on_delete=models.PROTECT,
                              related_name="recorded_searches")
    organisation = models.ForeignKey("procurement.Organisation", verbose_name=_("administration"),
                                     on_delete=models.PROTECT, related_name="recorded_searches")
    title = models.CharField(_("intitulé"), max_length=200, blank=True)
    filters = models.JSONField(_("filtres"), default=dict)
    filters_description = models.JSONField(
        _("filtres en clair"), default=list, blank=True,
        help_text=_("Les filtres tels qu'ils se lisaient à l'enregistrement : [[libellé, valeurs], ...]."),
    )
    framework_label = models.CharField(_("accord-cadre (à l'enregistrement)"), max_length=300, blank=True)
    query_string = models.TextField(_("adresse de la recherche"), blank=True)
    result_count = models.PositiveIntegerField(_("nombre de résultats"), default=0)
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("recherche enregistrée")
        verbose_name_plural = _("recherches enregistrées")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or _("Recherche du %(date)s") % {"date": f"{self.created_at:%d/%m/%Y %H:%M}"}

    def get_absolute_url(self) -> str:
        return reverse("procurement:search-detail", args=[self.pk])


class RecordedSearchItem(models.Model):
    """One offer as it stood when the search was recorded; never updated afterwards."""

    search = models.ForeignKey(RecordedSearch, verbose_name=_("recherche"), on_delete=models.CASCADE,
                               related_name="items")
    position = models.PositiveIntegerField(_("rang"))
    offer = models.ForeignKey("catalogue.Offer", verbose_name=_("offre"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    offer_name = models.CharField(_("offre"), max_length=200)
    provider_name = models.CharField(_("fournisseur"), max_length=200)
    service_model = models.CharField(_("modèle de service"), max_length=4)
    qualification_status = models.CharField(_("qualification"), max_length=20, blank=True,
                                            choices=QualificationStatus.choices)
    decision_number = models.CharField(_("numéro de décision"), max_length=40, blank=True)
    qualified_on = models.DateField(_("qualifiée le"), null=True, blank=True)
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True)

    class Meta:
        verbose_name = _("résultat enregistré")
        verbose_name_plural = _("résultats enregistrés")
        ordering = ["search", "position"]
        constraints = [models.UniqueConstraint(fields=["search", "position"], name="search_item_position_unique")]

    def __str__(self) -> str:
        return f"{self.provider_name} — {self.offer_name}"
