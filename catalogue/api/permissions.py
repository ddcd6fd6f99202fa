"""Who may call what on the catalogue API. The services check the same rules again."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from broker import roles


class IsQualifierOrReadOnly(permissions.BasePermission):
    """Anyone may read (the queryset decides what); only ANSSI staff and superusers may write."""

    message = _("Seuls les agents de l'ANSSI peuvent modifier une qualification.")

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or roles.is_qualifier(request.user)
