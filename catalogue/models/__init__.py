from .offer import (
    OFFER_TRANSITIONS,
    Certification,
    CertificationKind,
    Offer,
    OfferLocation,
    OfferState,
    ServiceModel,
)
from .provider import Provider
from .qualification import (
    QUALIFICATION_TRANSITIONS,
    Milestone,
    Qualification,
    QualificationAlert,
    QualificationEvent,
    QualificationStatus,
)
from .revision import (
    OfferReview,
    OfferRevision,
    ProviderChange,
    ReviewDecision,
    RevisionState,
)

__all__ = [
    "OFFER_TRANSITIONS", "Certification", "CertificationKind", "Offer", "OfferLocation", "OfferState",
    "ServiceModel", "Provider", "QUALIFICATION_TRANSITIONS", "Milestone", "Qualification",
    "QualificationAlert", "QualificationEvent", "QualificationStatus",
]

__all__ += ["OfferReview", "OfferRevision", "ProviderChange", "ReviewDecision", "RevisionState"]
