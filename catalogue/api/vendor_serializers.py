"""Serializers of the vendor and review API: a vendor's inputs, and what vendors and catalogue managers read.

The inputs hold only what a vendor may set. A field that is not among them (a
qualification status, a decision number, an ANSSI date, the publication state...)
is refused with a 400 naming it, rather than silently dropped, so a client learns
at once that it cannot set it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from broker.errors import RuleViolation
from catalogue import services, vendor_selectors
from catalogue.api.serializers import CurrentQualificationSerializer, ProviderSummarySerializer, SovereigntySerializer
from catalogue.countries import COUNTRY_CHOICES
from catalogue.models import (
    CertificationKind,
    Offer,
    OfferReview,
    OfferRevision,
    Provider,
    ProviderChange,
    ServiceModel,
)
from catalogue.models.revision import offer_values


class StrictInputSerializer(serializers.Serializer):
    """Refuse, by name, any field the serializer does not declare."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise RuleViolation(
                    "field_not_allowed",
                    _("Champ non modifiable ici : %(fields)s. La qualification, ses dates et son numéro de décision "
                      "relèvent de l'ANSSI ; l'état de publication, de la revue du catalogue.")
                    % {"fields": ", ".join(unknown)},
                    field=unknown[0],
                )
        return super().to_internal_value(data)


class VendorCertificationSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=CertificationKind.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    valid_until = serializers.DateField(required=False, allow_null=True, default=None,
                                       help_text=_("Fin de validité du certificat, si elle est connue."))


class VendorOfferInputSerializer(StrictInputSerializer):
    """What a vendor sets on an offer. Nothing of the qualification, nothing of the publication state."""

    name = serializers.CharField(max_length=200)
    service_model = serializers.ChoiceField(choices=ServiceModel.choices)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True,
                                        help_text=_("Obligatoire pour soumettre l'offre à la revue."))
    list_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False,
                                          allow_null=True, help_text=_("Prix catalogue HT en euros."))
    price_unit = serializers.CharField(max_length=60, required=False, allow_blank=True)
    locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES), required=False,
                                      help_text=_("Pays d'hébergement des données (au moins un pour soumettre)."))
    certifications = VendorCertificationSerializer(many=True, required=False,
                                                   help_text=_("La liste complète des certifications détenues."))


class DecisionInputSerializer(StrictInputSerializer):
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="",
                                    help_text=_("Ce que lit le fournisseur. Obligatoire pour demander des "
                                                "modifications."))


class OfferReviewSerializer(serializers.ModelSerializer):
    """One decision on an offer: who, when, from which state to which, the comment, what changed."""

    actor = serializers.SerializerMethodField()
    revision = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = OfferReview
        fields = ["id", "decision", "state_from", "state_to", "comment", "changes", "revision", "actor",
                  "created_at"]
        read_only_fields = fields

    def get_actor(self, review: OfferReview) -> str | None:
        return review.actor.get_username() if review.actor else None


class DiffRowSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()


class OfferRevisionSerializer(serializers.ModelSerializer):
    """A proposed change of a published offer, with what it changes (field, published value, proposed value)."""

    offer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()
    abilities = serializers.SerializerMethodField()

    class Meta:
        model = OfferRevision
        fields = ["id", "offer", "state", "values", "base_values", "diff", "author", "created_at", "decided_at",
                  "abilities"]
        read_only_fields = fields

    def get_author(self, revision: OfferRevision) -> str | None:
        return revision.author.get_username() if revision.author else None

    @extend_schema_field(DiffRowSerializer(many=True))
    def get_diff(self, revision: OfferRevision) -> list[dict]:
        return [row.__dict__ for row in vendor_selectors.revision_diff(revision=revision)]

    @extend_schema_field(serializers.DictField(child=serializers.BooleanField()))
    def get_abilities(self, revision: OfferRevision) -> dict[str, bool]:
        return services.revision_abilities(revision=revision, user=self.context["request"].user)


class VendorOfferSerializer(serializers.ModelSerializer):
    """An offer as its vendor sees it: every state, the qualification, the proposal awaiting review."""

    locations = serializers.SerializerMethodField()
    certifications = serializers.SerializerMethodField()
    qualification = CurrentQualificationSerializer(source="current_qualification", read_only=True, allow_null=True)
    pending_revision = serializers.SerializerMethodField(
        help_text=_("La modification proposée en attente de revue ; la version publiée reste en ligne jusque-là."))
    abilities = serializers.SerializerMethodField(
        help_text=_("Ce que l'utilisateur peut faire maintenant sur cette offre (le serveur accepterait)."))

    class Meta:
        model = Offer
        fields = ["slug", "name", "service_model", "category", "description", "list_price", "price_unit", "state",
                  "published_at", "locations", "certifications", "qualification", "pending_revision", "abilities",
                  "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES)))
    def get_locations(self, offer: Offer) -> list[str]:
        return sorted(location.country for location in offer.locations.all())

    @extend_schema_field(VendorCertificationSerializer(many=True))
    def get_certifications(self, offer: Offer) -> list[dict]:
        return offer_values(offer)["certifications"]

    @extend_schema_field(OfferRevisionSerializer(allow_null=True))
    def get_pending_revision(self, offer: Offer) -> dict | None:
        revision = vendor_selectors.pending_revision(offer=offer)
        return OfferRevisionSerializer(revision, context=self.context).data if revision else None

    @extend_schema_field(serializers.DictField(child=serializers.BooleanField()))
    def get_abilities(self, offer: Offer) -> dict[str, bool]:
        return services.offer_abilities(offer=offer, user=self.context["request"].user)


class VendorOfferDetailSerializer(VendorOfferSerializer):
    """One offer with the history of its review decisions."""

    reviews = serializers.SerializerMethodField()

    class Meta(VendorOfferSerializer.Meta):
        fields = [*VendorOfferSerializer.Meta.fields, "reviews"]
        read_only_fields = fields

    @extend_schema_field(OfferReviewSerializer(many=True))
    def get_reviews(self, offer: Offer) -> list[dict]:
        return OfferReviewSerializer(vendor_selectors.offer_reviews(offer=offer), many=True).data


class ReviewOfferSerializer(VendorOfferDetailSerializer):
    """A submitted offer as the review queue shows it: its provider and what changed since it was sent back."""

    provider = ProviderSummarySerializer(read_only=True)
    diff = serializers.SerializerMethodField(
        help_text=_("Ce que la soumission change : par rapport à la version renvoyée au fournisseur, ou tout si "
                    "l'offre est nouvelle."))

    class Meta(VendorOfferDetailSerializer.Meta):
        fields = ["provider", *VendorOfferDetailSerializer.Meta.fields, "diff"]
        read_only_fields = fields

    @extend_schema_field(DiffRowSerializer(many=True))
    def get_diff(self, offer: Offer) -> list[dict]:
        return [row.__dict__ for row in vendor_selectors.submission_diff(offer=offer)]


class ProviderProfileInputSerializer(StrictInputSerializer):
    """What a vendor keeps of their provider's profile."""

    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    siren = serializers.RegexField(r"^\d{9}$", required=False, allow_blank=True,
                                   error_messages={"invalid": _("Un SIREN compte exactement 9 chiffres.")})
    vat_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    seat_country = serializers.ChoiceField(choices=COUNTRY_CHOICES, required=False)
    largest_non_eu_holding = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"),
                                                      max_value=Decimal("100"), required=False, allow_null=True)
    total_non_eu_holding = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal("0"),
                                                    max_value=Decimal("100"), required=False, allow_null=True)
    data_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES), required=False)
    support_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES), required=False)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)


class ProviderChangeSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ProviderChange
        fields = ["id", "changes", "affects_sovereignty", "actor", "created_at"]
        read_only_fields = fields

    def get_actor(self, change: ProviderChange) -> str | None:
        return change.actor.get_username() if change.actor else None


class ProviderProfileSerializer(serializers.ModelSerializer):
    """The vendor's provider: profile, the §19.6 check, and the latest recorded changes."""

    data_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES), read_only=True)
    support_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES),
                                              read_only=True)
    sovereignty = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = ["slug", "name", "legal_name", "siren", "vat_number", "seat_country", "largest_non_eu_holding",
                  "total_non_eu_holding", "data_locations", "support_locations", "website", "sovereignty", "changes"]
        read_only_fields = fields

    @extend_schema_field(SovereigntySerializer)
    def get_sovereignty(self, provider: Provider) -> dict:
        failures = provider.sovereignty_failures
        return {"passes": not failures, "reasons": [str(reason) for reason in failures]}

    @extend_schema_field(ProviderChangeSerializer(many=True))
    def get_changes(self, provider: Provider) -> list[dict]:
        return ProviderChangeSerializer(vendor_selectors.provider_changes(provider=provider), many=True).data
