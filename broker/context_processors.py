"""Template context shared by every page: the user's roles and unread notifications."""

from broker import roles


def courtier(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": frozenset(), "unread_notifications": 0}
    from procurement.models import Notification

    return {
        "user_roles": roles.roles_of(user),
        "is_qualifier": roles.is_qualifier(user),
        "is_catalogue_manager": roles.is_catalogue_manager(user),
        "is_buyer": roles.is_buyer(user),
        "is_vendor": roles.is_vendor(user),
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }
