"""Writes to the catalogue, one module per aggregate. Every channel calls these."""

from catalogue.services.qualifications import (
    QUALIFICATION_FIELDS,
    ensure_qualifier,
    qualification_renew,
    qualification_update,
    qualifications_set_status,
)

__all__ = ["QUALIFICATION_FIELDS", "ensure_qualifier", "qualification_renew", "qualification_update",
           "qualifications_set_status"]
