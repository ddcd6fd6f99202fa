"""Writes to the catalogue, one module per aggregate. Every channel calls these."""

from catalogue.services.offers import (
    offer_abilities,
    offer_create,
    offer_edit,
    offer_publish,
    offer_request_changes,
    offer_submit,
    offer_update_draft,
    offer_withdraw,
    revision_abilities,
    revision_approve,
    revision_propose,
    revision_request_changes,
)
from catalogue.services.providers import provider_update_profile
from catalogue.services.qualifications import (
    QUALIFICATION_FIELDS,
    ensure_qualifier,
    qualification_renew,
    qualification_update,
    qualifications_set_status,
)

__all__ = ["QUALIFICATION_FIELDS", "ensure_qualifier", "qualification_renew", "qualification_update",
           "qualifications_set_status"]
__all__ += ["offer_abilities", "offer_create", "offer_edit", "offer_publish", "offer_request_changes",
            "offer_submit", "offer_update_draft", "offer_withdraw", "provider_update_profile",
            "revision_abilities", "revision_approve", "revision_propose", "revision_request_changes"]
