"""The one world the security tests walk: two administrations, two providers, and an object in every state.

Built through the services where a state has a history (orders, recorded searches,
revisions), with factories elsewhere. Organisation A (the `organisation` fixture) and
provider A (`provider`) are the role users' own; organisation B and provider B are
"the others", whose objects must answer 404 to A's people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from catalogue import services as catalogue_services
from catalogue.models import Offer, OfferRevision, OfferState, Qualification
from procurement.models import (
    FrameworkContract,
    Lot,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    RecordedSearch,
)
from procurement.services import searches as search_services
from tests.factories import OfferFactory, QualificationFactory, ReferencingFactory
from tests.procurement.order_builders import Market, build_market, make_order

# The seven roles of the matrix: the offer's vendor is provider A's, "other_vendor" provider B's.
ROLES = ("anonymous", "buyer", "approver", "vendor", "other_vendor", "qualifier", "catalogue_manager")


@dataclass
class World:
    users: dict
    framework: FrameworkContract
    lot: Lot
    offer: Offer                # provider A, published, qualified, referenced in the lot
    qualification: Qualification
    offer_b: Offer              # provider B, published, qualified, referenced in the lot
    draft: Offer                # provider A, complete draft (submittable)
    draft_b: Offer              # provider B, draft
    submitted: Offer            # provider A, awaiting review
    revision: OfferRevision     # pending revision of `offer`
    order_draft: Order          # organisation A, by the buyer
    order_submitted: Order      # organisation A, by the buyer
    order_approved: Order       # organisation A, by the buyer, approved by the approver
    order_b_draft: Order        # organisation B, on offer B
    order_b_submitted: Order    # organisation B, on offer B
    search: RecordedSearch      # organisation A's
    search_b: RecordedSearch    # organisation B's
    notification: Notification  # the buyer's
    notification_b: Notification  # the other administration's buyer's


def build_world(*, users: dict, provider, other_provider, today: date) -> World:
    """Every object the permission matrices act on (see World)."""
    market: Market = build_market(provider=provider)
    offer_b = OfferFactory(provider=other_provider, name="Outscale IaaS", slug="outscale-iaas")
    QualificationFactory(offer=offer_b)
    ReferencingFactory(lot=market.lot, offer=offer_b)
    market_b = Market(market.framework, market.lot, offer_b, None, None)

    draft = OfferFactory(provider=provider, name="Stockage objet", slug="ovh-stockage", state=OfferState.DRAFT,
                         description="Stockage S3 en France")
    draft_b = OfferFactory(provider=other_provider, name="Brouillon B", slug="outscale-brouillon",
                           state=OfferState.DRAFT)
    submitted = OfferFactory(provider=provider, name="Kubernetes", slug="ovh-kubernetes", state=OfferState.SUBMITTED,
                             description="Kubernetes managé")
    revision = catalogue_services.offer_edit(offer=market.offer, user=users["vendor"],
                                             values={"description": "Des VM, désormais avec GPU"})

    order_draft = make_order(market, users=users, today=today)
    order_submitted = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    order_approved = make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    order_b_draft = make_order(market_b, users=users, today=today, creator="other_buyer")
    order_b_submitted = make_order(market_b, users=users, today=today, creator="other_buyer",
                                   status=OrderStatus.SUBMITTED)

    search = search_services.search_record(user=users["buyer"], query_string="service_model=IaaS",
                                           title="Hébergement", today=today)
    search_b = search_services.search_record(user=users["other_buyer"], query_string="", title="Tout", today=today)
    notification = Notification.objects.create(recipient=users["buyer"], kind=NotificationKind.ORDER,
                                               title="Commande validée")
    notification_b = Notification.objects.create(recipient=users["other_buyer"], kind=NotificationKind.ORDER,
                                                 title="Commande validée")
    return World(
        users=users, framework=market.framework, lot=market.lot, offer=market.offer,
        qualification=market.qualification, offer_b=offer_b, draft=draft, draft_b=draft_b, submitted=submitted,
        revision=revision, order_draft=order_draft, order_submitted=order_submitted, order_approved=order_approved,
        order_b_draft=order_b_draft, order_b_submitted=order_b_submitted, search=search, search_b=search_b,
        notification=notification, notification_b=notification_b,
    )
