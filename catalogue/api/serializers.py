"""Catalogue API serializers: read shapes for providers, offers and qualifications, and the qualifiers' inputs.

Read serializers take `today` (and, for offers, the service `start`) from the
serializer context that the views fill in; nothing here reads the clock.
"""

from __future__ import annotations

from functools import cached_property

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from broker import roles
from catalogue import doctrine, selectors
from catalogue.countries import COUNTRY_CHOICES
from catalogue.models import (
    Certification,
    Milestone,
    Offer,
    Provider,
    Qualification,
    QualificationEvent,
    QualificationStatus,
)

URL_SLUG = "offer-slug"  # a placeholder for the slug of each offer (slugs need no URL quoting)


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()


def _price_field() -> serializers.DecimalField:
    """The field ModelSerializer makes of Offer.list_price, built once rather than for every serializer."""
    price = Offer._meta.get_field("list_price")
    return serializers.DecimalField(max_digits=price.max_digits, decimal_places=price.decimal_places)


PRICE = _price_field()


def _decimal(value) -> str | None:
    return None if value is None else PRICE.to_representation(value)


def _absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class SovereigntySerializer(serializers.Serializer):
    passes = serializers.BooleanField(help_text=_("Vrai si le fournisseur satisfait le §19.6 de SecNumCloud 3.2."))
    reasons = serializers.ListField(child=serializers.CharField(),
                                    help_text=_("Une raison par point non satisfait (vide s'il passe)."))


class ProviderSerializer(serializers.ModelSerializer):
    data_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES), read_only=True)
    support_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES),
                                              read_only=True)
    sovereignty = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text=_("La page publique du fournisseur."))

    class Meta:
        model = Provider
        fields = ["slug", "name", "legal_name", "siren", "vat_number", "seat_country", "largest_non_eu_holding",
                  "total_non_eu_holding", "data_locations", "support_locations", "website", "sovereignty", "url"]
        read_only_fields = fields

    @extend_schema_field(SovereigntySerializer)
    def get_sovereignty(self, provider: Provider) -> dict:
        failures = provider.sovereignty_failures
        return {"passes": not failures, "reasons": [str(reason) for reason in failures]}

    def get_url(self, provider: Provider) -> str:
        return _absolute(self, provider.get_absolute_url())


class ProviderSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["slug", "name"]
        read_only_fields = fields


class OfferSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Offer
        fields = ["slug", "name"]
        read_only_fields = fields


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = ["kind", "valid_until"]
        read_only_fields = fields


class CurrentQualificationSerializer(serializers.ModelSerializer):
    """The decision in force, as an offer shows it."""

    days_left = serializers.SerializerMethodField(
        help_text=_("Jours jusqu'à la fin de validité (négatif une fois passée), null si elle n'est pas connue.")
    )

    class Meta:
        model = Qualification
        fields = ["id", "status", "milestone", "referential_version", "decision_number", "qualified_on",
                  "valid_until", "days_left"]
        read_only_fields = fields

    def get_days_left(self, qualification: Qualification) -> int | None:
        return qualification.days_left(today=self.context["today"])


class VerdictSerializer(serializers.Serializer):
    """The doctrine's answer for one sensitivity (catalogue.doctrine.Verdict)."""

    sensitivity = serializers.ChoiceField(choices=list(doctrine.SENSITIVITY_LABELS.items()))
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(),
                                    help_text=_("Pourquoi l'offre ne peut pas héberger ces données."))
    continuity_risk = serializers.BooleanField()


class OfferSerializer(serializers.ModelSerializer):
    """An offer with its current qualification and its eligibility for every sensitivity.

    The queryset must come through selectors.with_card_data (the views' filter set does it):
    the doctrine then reads prefetched relations and a page costs a fixed number of queries.
    """

    provider = ProviderSummarySerializer(read_only=True)
    data_locations = serializers.SerializerMethodField()
    certifications = CertificationSerializer(many=True, read_only=True)
    qualification = CurrentQualificationSerializer(source="current_qualification", read_only=True, allow_null=True)
    eligibility = serializers.SerializerMethodField(
        help_text=_("Le verdict de la doctrine « cloud au centre » pour chaque sensibilité de données, "
                    "pour un service commençant à la date `valid_on` (aujourd'hui par défaut).")
    )
    url = serializers.SerializerMethodField(help_text=_("La page publique de l'offre."))

    class Meta:
        model = Offer
        fields = ["slug", "name", "provider", "service_model", "category", "description", "list_price", "price_unit",
                  "state", "data_locations", "certifications", "qualification", "eligibility", "url"]
        read_only_fields = fields

    def to_representation(self, offer: Offer) -> dict:
        """The declared fields above, built directly: DRF's field-by-field walk of the nested
        serializers cost about 1 ms per offer, most of a page's time (bench/run.py).
        tests/catalogue/test_api_offer_representation.py proves both give the same JSON."""
        qualification = offer.current_qualification
        return {
            "slug": offer.slug,
            "name": offer.name,
            "provider": {"slug": offer.provider.slug, "name": offer.provider.name},
            "service_model": offer.service_model,
            "category": offer.category,
            "description": offer.description,
            "list_price": _decimal(offer.list_price),
            "price_unit": offer.price_unit,
            "state": offer.state,
            "data_locations": self.get_data_locations(offer),
            "certifications": [{"kind": certification.kind, "valid_until": _iso(certification.valid_until)}
                               for certification in offer._related("certifications")],
            "qualification": None if qualification is None else {
                "id": qualification.id,
                "status": qualification.status,
                "milestone": qualification.milestone,
                "referential_version": qualification.referential_version,
                "decision_number": qualification.decision_number,
                "qualified_on": _iso(qualification.qualified_on),
                "valid_until": _iso(qualification.valid_until),
                "days_left": qualification.days_left(today=self.context["today"]),
            },
            "eligibility": self.get_eligibility(offer),
            "url": self.get_url(offer),
        }

    def field_by_field_representation(self, offer: Offer) -> dict:
        """DRF's own rendering of the declared fields (what to_representation must equal)."""
        return super().to_representation(offer)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES)))
    def get_data_locations(self, offer: Offer) -> list[str]:
        return list(offer.country_codes)

    @extend_schema_field(VerdictSerializer(many=True))
    def get_eligibility(self, offer: Offer) -> list[dict]:
        today = self.context["today"]
        verdicts = selectors.offer_verdicts(offer=offer, today=today, start=self.context.get("start") or today)
        return [verdict.as_dict() for verdict in verdicts]

    def get_url(self, offer: Offer) -> str:
        before, _slug, after = self._url_around_slug
        return f"{before}{offer.slug}{after}"

    @cached_property
    def _url_around_slug(self) -> tuple[str, str, str]:
        """An offer page's absolute URL split around its slug: reversed once per page, not once per offer."""
        return _absolute(self, reverse("catalogue:offer-detail", args=[URL_SLUG])).rpartition(URL_SLUG)


class QualificationAbilitiesSerializer(serializers.Serializer):
    update = serializers.BooleanField(help_text=_("Vrai si l'utilisateur peut modifier cette décision (PATCH)."))


class QualificationSerializer(serializers.ModelSerializer):
    """One ANSSI decision: the current one of its offer, or an earlier one kept in the history."""

    offer = OfferSummarySerializer(read_only=True)
    provider = ProviderSummarySerializer(source="offer.provider", read_only=True)
    days_left = serializers.SerializerMethodField(
        help_text=_("Jours jusqu'à la fin de validité (négatif une fois passée), null si elle n'est pas connue.")
    )
    abilities = serializers.SerializerMethodField()

    class Meta:
        model = Qualification
        fields = ["id", "offer", "provider", "is_current", "status", "milestone", "referential_version",
                  "decision_number", "qualified_on", "valid_until", "days_left", "conditions", "created_at",
                  "updated_at", "abilities"]
        read_only_fields = fields

    def get_days_left(self, qualification: Qualification) -> int | None:
        return qualification.days_left(today=self.context["today"])

    @extend_schema_field(QualificationAbilitiesSerializer)
    def get_abilities(self, qualification: Qualification) -> dict:
        request = self.context.get("request")
        user = request.user if request is not None else None
        return {"update": qualification.is_current and roles.is_qualifier(user)}


class QualificationValuesSerializer(serializers.Serializer):
    """The fields of a decision that ANSSI staff set, and the mandatory reason for the change."""

    reason = serializers.CharField(max_length=2000, help_text=_("Pourquoi ce changement (obligatoire)."))
    status = serializers.ChoiceField(choices=QualificationStatus.choices, required=False)
    milestone = serializers.ChoiceField(choices=Milestone.choices, required=False, allow_blank=True,
                                        help_text=_("Uniquement pour une qualification en cours."))
    referential_version = serializers.CharField(max_length=10, required=False)
    decision_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    qualified_on = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(
        required=False, allow_null=True,
        help_text=_("Par défaut trois ans après la date de qualification, jamais au-delà."),
    )
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    @property
    def values(self) -> dict:
        """The decision's fields to set (everything but the reason)."""
        return {name: value for name, value in self.validated_data.items() if name != "reason"}


class QualificationUpdateSerializer(QualificationValuesSerializer):
    """PATCH input: any of the decision's fields, and the reason, which even a PATCH must carry."""

    # drf-spectacular documents every PATCH body as partial (nothing required). This one never is:
    # pinning `partial` keeps the schema true to the view, which validates the reason as required.
    partial = property(lambda self: False, lambda self, value: None)


class QualificationRenewSerializer(QualificationValuesSerializer):
    """POST input: a new ANSSI decision for an offer; the one in force stays in the history."""

    offer = serializers.SlugRelatedField(slug_field="slug", queryset=Offer.objects.all(),
                                         help_text=_("L'identifiant d'URL de l'offre."))
    status = serializers.ChoiceField(choices=QualificationStatus.choices, default=QualificationStatus.IN_PROGRESS)

    @property
    def values(self) -> dict:
        return {name: value for name, value in self.validated_data.items() if name not in ("reason", "offer")}


class QualificationEventSerializer(serializers.ModelSerializer):
    """One change to a decision: when, by whom, why, and each field's [before, after]."""

    actor = serializers.SerializerMethodField(
        help_text=_("Identifiant de l'auteur ; null pour le système, et pour les visiteurs non connectés.")
    )
    by_system = serializers.SerializerMethodField(help_text=_("Vrai quand le changement a été fait par le système."))

    class Meta:
        model = QualificationEvent
        fields = ["id", "created_at", "actor", "by_system", "reason", "status_from", "status_to", "changes"]
        read_only_fields = fields

    def get_actor(self, event: QualificationEvent) -> str | None:
        # Anonymous visitors see no people (DESIGN.md): the name of the author is for signed-in users.
        request = self.context.get("request")
        if event.actor is None or request is None or not request.user.is_authenticated:
            return None
        return event.actor.get_username()

    def get_by_system(self, event: QualificationEvent) -> bool:
        return event.actor_id is None
