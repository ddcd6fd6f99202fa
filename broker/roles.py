"""The five roles of Courtier (Django groups) and who a user belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

BUYER = "buyer"
APPROVER = "approver"
VENDOR = "vendor"
QUALIFIER = "qualifier"
CATALOGUE_MANAGER = "catalogue_manager"

ROLES = (BUYER, APPROVER, VENDOR, QUALIFIER, CATALOGUE_MANAGER)
ROLE_LABELS = {
    BUYER: _("Acheteur d'une administration"),
    APPROVER: _("Valideur (responsable budgétaire)"),
    VENDOR: _("Fournisseur"),
    QUALIFIER: _("Agent de l'ANSSI"),
    CATALOGUE_MANAGER: _("Gestionnaire du catalogue (DINUM)"),
}


def roles_of(user) -> frozenset[str]:
    """The role names of `user`, cached on the user object for the request."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_courtier_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._courtier_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def is_qualifier(user) -> bool:
    """ANSSI staff, or a superuser: the only people who change qualifications."""
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, QUALIFIER)))


def is_catalogue_manager(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, CATALOGUE_MANAGER)))


def is_buyer(user) -> bool:
    """Buyers and approvers both browse, check, record searches and draft orders."""
    return has_role(user, BUYER, APPROVER) and organisation_of(user) is not None


def is_approver(user) -> bool:
    return has_role(user, APPROVER) and organisation_of(user) is not None


def is_vendor(user) -> bool:
    return has_role(user, VENDOR) and provider_of(user) is not None


def _profile(user):
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.profile
    except ObjectDoesNotExist:
        return None


def organisation_of(user):
    """The administration a buyer or approver belongs to, or None."""
    profile = _profile(user)
    return profile.organisation if profile else None


def provider_of(user):
    """The provider a vendor works for, or None."""
    profile = _profile(user)
    return profile.provider if profile else None


def ensure_role_groups() -> dict:
    """Create the five role groups if they are missing (idempotent); return them by role name."""
    return {role: Group.objects.get_or_create(name=role)[0] for role in ROLES}
