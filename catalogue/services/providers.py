"""Providers' profiles: vendors keep them; a change that matters to SecNumCloud §19.6 is told to those concerned.

Every change is a ProviderChange row (who, when, each field before and after).
When the seat, the non-EU holdings, or where the data is kept and the service is
run change, the qualifiers (ANSSI) are told, and so are the buyers and approvers
whose committed orders depend on the provider's offers: the référentiel asks the
provider to tell its customers within a month.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from broker import roles
from broker.errors import RuleViolation
from catalogue.countries import COUNTRY_CODES
from catalogue.models import Provider, ProviderChange
from catalogue.models.revision import PROVIDER_EDITABLE_FIELDS, SOVEREIGNTY_FIELDS, json_value
from catalogue.vendor_selectors import provider_change_rows
from procurement.models import COMMITTED_STATUSES, NotificationKind, Order, UserProfile
from procurement.services.notifications import notify

LOCATION_FIELDS = ("data_locations", "support_locations")
PERCENT_FIELDS = ("largest_non_eu_holding", "total_non_eu_holding")


def may_edit_profile(*, provider: Provider, user) -> bool:
    """A provider's vendors keep its profile; catalogue managers may correct it."""
    if roles.is_catalogue_manager(user):
        return True
    own = roles.provider_of(user) if roles.is_vendor(user) else None
    return own is not None and own.pk == provider.pk


def _canonical(name: str, value):
    """A profile value in the form it is stored and compared in."""
    if name in LOCATION_FIELDS:
        codes = sorted({str(code).strip().upper() for code in (value or [])})
        unknown = [code for code in codes if code not in COUNTRY_CODES]
        if unknown:
            raise RuleViolation("invalid", _("Pays inconnu : %(codes)s.") % {"codes": ", ".join(unknown)}, field=name)
        return codes
    if name in PERCENT_FIELDS:
        if value in (None, ""):
            return None
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise RuleViolation("invalid", _("Un pourcentage entre 0 et 100."), field=name) from None
    if name == "seat_country":
        return str(value or "").strip().upper()
    return "" if value is None else str(value).strip()


def provider_update_profile(*, provider: Provider, user, values: dict) -> ProviderChange | None:
    """Change `provider`'s profile; record the change; tell those concerned when it touches §19.6.

    Returns the recorded change, or None when nothing changed. A field that is not
    part of the profile is refused by name; the model's rules (SIREN, percentages,
    largest holding within the total) give field errors (ValidationError).
    """
    if not may_edit_profile(provider=provider, user=user):
        raise PermissionDenied(_("Vous ne pouvez pas modifier ce fournisseur."))
    refused = sorted(set(values) - set(PROVIDER_EDITABLE_FIELDS))
    if refused:
        raise RuleViolation("field_not_allowed", _("Ce champ ne fait pas partie du profil : %(fields)s.")
                            % {"fields": ", ".join(refused)}, field=refused[0])
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        before = {name: getattr(locked, name) for name in values}
        for name, value in values.items():
            setattr(locked, name, _canonical(name, value))
        changed = [name for name in values if getattr(locked, name) != before[name]]
        if not changed:
            return None
        largest, total = locked.largest_non_eu_holding, locked.total_non_eu_holding
        if largest is not None and total is not None and largest > total:
            raise RuleViolation("invalid_holdings", _("La plus forte détention hors UE ne peut dépasser la détention "
                                                      "totale hors UE."), field="largest_non_eu_holding")
        if "siren" in changed and locked.siren and \
                Provider.objects.filter(siren=locked.siren).exclude(pk=locked.pk).exists():
            raise RuleViolation("siren_taken", _("Ce SIREN est déjà celui d'un autre fournisseur."), field="siren")
        was_passing = Provider(**{name: before.get(name, getattr(locked, name)) for name in
                                  ("seat_country", *PERCENT_FIELDS)}).passes_sovereignty
        locked.full_clean(exclude=[field.name for field in Provider._meta.fields
                                   if field.name not in PROVIDER_EDITABLE_FIELDS])
        locked.save(update_fields=[*changed, "updated_at"])
        change = ProviderChange.objects.create(
            provider=locked, actor=user,
            changes={name: [json_value(before[name]), json_value(getattr(locked, name))] for name in changed},
            affects_sovereignty=any(name in SOVEREIGNTY_FIELDS for name in changed),
        )
        audit_record(actor=user, action=AuditAction.CHANGED, obj=locked, changes=change.changes)
        if change.affects_sovereignty:
            _tell_sovereignty_change(locked, change=change, was_passing=was_passing)
    provider.refresh_from_db()
    return change


def provider_change_audience(*, provider: Provider) -> frozenset[int]:
    """Who hears of a §19.6 change: every qualifier, and the buyers and approvers of committed orders
    on the provider's offers (the order's creator and the approvers of its administration)."""
    users = get_user_model().objects.filter(is_active=True)
    qualifiers = set(users.filter(groups__name=roles.QUALIFIER).values_list("pk", flat=True))
    orders = Order.objects.filter(offer__provider=provider, status__in=COMMITTED_STATUSES)
    creators = set(users.filter(pk__in=orders.values("created_by")).values_list("pk", flat=True))
    approvers = set(UserProfile.objects.filter(
        Q(organisation__in=orders.values("organisation")), user__is_active=True, user__groups__name=roles.APPROVER,
    ).values_list("user_id", flat=True))
    return frozenset(qualifiers | creators | approvers)


def _tell_sovereignty_change(provider: Provider, *, change: ProviderChange, was_passing: bool) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        lines = [_("- %(field)s : %(before)s → %(after)s") % {"field": row.label, "before": row.before,
                                                              "after": row.after}
                 for row in provider_change_rows(change.changes)]
        if provider.passes_sovereignty:
            verdict = _("Le contrôle SecNumCloud §19.6 reste satisfait.") if was_passing else \
                _("Le contrôle SecNumCloud §19.6 est désormais satisfait.")
        else:
            verdict = _("Le contrôle SecNumCloud §19.6 n'est plus satisfait : %(reasons)s") % {
                "reasons": " ".join(str(reason) for reason in provider.sovereignty_failures)}
        body = "\n".join([
            _("%(provider)s a modifié des informations qui comptent pour la qualification SecNumCloud "
              "(§19.6 : siège, détention hors UE, lieux d'hébergement et de support) :") % {"provider": provider.name},
            *lines,
            "",
            verdict,
            _("Le référentiel SecNumCloud demande que les clients soient informés de tout changement de ce type "
              "dans un délai d'un mois."),
        ])
        notify(recipients=provider_change_audience(provider=provider), kind=NotificationKind.PROVIDER_CHANGED,
               title=_("Changement chez %(provider)s (SecNumCloud §19.6)") % {"provider": provider.name},
               body=body, link=reverse("catalogue:provider-detail", args=[provider.slug]))

