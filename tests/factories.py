"""factory_boy factories for every model the tests build."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from catalogue.models import (
    Certification,
    Offer,
    OfferLocation,
    OfferState,
    Provider,
    Qualification,
    QualificationStatus,
)
from procurement.models import (
    COMMITTED_STATUSES,
    FrameworkContract,
    Lot,
    Order,
    OrderStatus,
    Organisation,
    Referencing,
    UserProfile,
)
from procurement.services.frameworks import refresh_commitments


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Fournisseur {n}")
    slug = factory.Sequence(lambda n: f"fournisseur-{n}")
    legal_name = factory.LazyAttribute(lambda p: f"{p.name} SAS")
    seat_country = "FR"
    largest_non_eu_holding = Decimal("0")
    total_non_eu_holding = Decimal("0")
    data_locations = factory.LazyFunction(lambda: ["FR"])
    support_locations = factory.LazyFunction(lambda: ["FR"])


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer
        skip_postgeneration_save = True

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Offre {n}")
    slug = factory.Sequence(lambda n: f"offre-{n}")
    service_model = "IaaS"
    category = "Calcul"
    description = "Infrastructure sécurisée"
    list_price = Decimal("100.00")
    price_unit = "par mois"
    state = OfferState.PUBLISHED

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if not create:
            return
        for country in ["FR"] if extracted is None else extracted:
            OfferLocation.objects.create(offer=self, country=country)


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    offer = factory.SubFactory(OfferFactory)
    status = QualificationStatus.QUALIFIED
    decision_number = factory.Sequence(lambda n: str(1000 + n))
    qualified_on = date(2025, 1, 1)
    valid_until = date(2028, 1, 1)


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    offer = factory.SubFactory(OfferFactory)
    kind = "hds"
    valid_until = date(2029, 1, 1)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Administration {n}")
    slug = factory.Sequence(lambda n: f"administration-{n}")
    # 14 digits passing the Luhn check: a 13-digit sequence plus its check digit.
    siret = factory.Sequence(lambda n: _with_luhn_digit(f"{110000000000 + n:013d}"))
    kind = "ministry"


def _with_luhn_digit(body: str) -> str:
    from procurement.validators import luhn_valid

    return next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkContract

    reference = factory.Sequence(lambda n: f"AC-{n:04d}")
    slug = factory.Sequence(lambda n: f"ac-{n:04d}")
    title = "Nuage public"
    purchasing_body = "UGAP"
    holder = "Crayon France"
    starts_on = date(2025, 1, 1)
    ends_on = date(2029, 12, 31)
    ceiling = Decimal("1000000.00")
    discount_percent = Decimal("10")


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    framework = factory.SubFactory(FrameworkFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Infrastructure"
    service_model = "IaaS"


class ReferencingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referencing

    lot = factory.SubFactory(LotFactory)
    offer = factory.SubFactory(OfferFactory)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order written directly in any status (no workflow, no snapshot checks): for tests about what reads
    orders. Orders that must follow the rules are made through the services (tests/procurement/order_builders.py).
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"BC-TEST-F{n:05d}")
    organisation = factory.SubFactory(OrganisationFactory)
    created_by = factory.SubFactory("tests.factories.UserFactory")
    lot = factory.SubFactory(LotFactory)
    framework = factory.SelfAttribute("lot.framework")
    offer = factory.SubFactory(OfferFactory)
    quantity = 1
    unit_price = Decimal("100.00")
    amount = factory.LazyAttribute(lambda order: order.unit_price * order.quantity)
    sensitivity = "non_sensitive"
    starts_on = date(2026, 12, 1)
    ends_on = date(2027, 11, 30)
    justification = "Hébergement de l'application métier"
    status = OrderStatus.SUBMITTED
    offer_name = factory.SelfAttribute("offer.name")
    provider_name = factory.SelfAttribute("offer.provider.name")

    @factory.post_generation
    def commitments(self, create, extracted, **kwargs):
        """Written past the order services: recompute its framework's stored committed totals."""
        if create and self.status in COMMITTED_STATUSES:
            refresh_commitments(framework_ids=[self.framework_id])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.gouv.fr")
    password = factory.django.Password("password-123")


def make_user(role: str | None = None, *, organisation=None, provider=None, username=None, **kwargs) -> User:
    """A user with `role` (a Django group), attached to an organisation or a provider."""
    user = UserFactory(**({"username": username} if username else {}), **kwargs)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    if organisation is not None or provider is not None:
        UserProfile.objects.update_or_create(user=user, defaults={"organisation": organisation, "provider": provider})
    return user
