"""Administrations that buy, and the link from people to their organisation or provider."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.validators import validate_siret


class OrganisationKind(models.TextChoices):
    MINISTRY = "ministry", _("Ministère")
    AGENCY = "agency", _("Agence ou service à compétence nationale")
    OPERATOR = "operator", _("Opérateur de l'État")
    LOCAL_AUTHORITY = "local_authority", _("Collectivité territoriale")
    HOSPITAL = "hospital", _("Établissement de santé")
    OTHER = "other", _("Autre organisme public")


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    slug = models.SlugField(_("identifiant d'URL"), max_length=200, unique=True)
    siret = models.CharField(_("SIRET"), max_length=14, unique=True, validators=[validate_siret])
    kind = models.CharField(_("nature"), max_length=20, choices=OrganisationKind.choices)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("administration")
        verbose_name_plural = _("administrations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """Where a person belongs: an administration (buyers, approvers) or a provider (vendors)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"), on_delete=models.CASCADE,
                                related_name="profile")
    organisation = models.ForeignKey(Organisation, verbose_name=_("administration"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="members")
    provider = models.ForeignKey("catalogue.Provider", verbose_name=_("fournisseur"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="members")

    class Meta:
        verbose_name = _("profil")
        verbose_name_plural = _("profils")
        constraints = [
            models.CheckConstraint(condition=Q(organisation__isnull=True) | Q(provider__isnull=True),
                                   name="profile_one_affiliation"),
        ]

    def __str__(self) -> str:
        return str(self.user)
