from .framework import FrameworkContract, FrameworkStatus, Lot, Referencing
from .notification import Notification, NotificationKind
from .order import COMMITTED_STATUSES, ORDER_TRANSITIONS, Order, OrderEvent, OrderStatus
from .organisation import Organisation, OrganisationKind, UserProfile
from .search import RecordedSearch, RecordedSearchItem

__all__ = [
    "FrameworkContract", "FrameworkStatus", "Lot", "Referencing", "Notification", "NotificationKind",
    "COMMITTED_STATUSES", "ORDER_TRANSITIONS", "Order", "OrderEvent", "OrderStatus", "Organisation",
    "OrganisationKind", "UserProfile", "RecordedSearch", "RecordedSearchItem",
]
