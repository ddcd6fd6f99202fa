"""Admin of procurement.

Catalogue managers (DINUM, the purchasing body) keep administrations, people's
affiliations, framework contracts, lots and referenced offers; qualifiers may
look at frameworks and administrations. Orders, recorded searches and
notifications are read-only here for catalogue managers: an order's status
changes through its pages and the API, where the workflow's rules run.
Permissions come from `broker.roles`.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdmin
from broker import roles
from procurement.models import (
    FrameworkContract,
    FrameworkStatus,
    Lot,
    Notification,
    Order,
    OrderEvent,
    Organisation,
    RecordedSearch,
    RecordedSearchItem,
    Referencing,
    UserProfile,
)


class ManagedByCatalogueManagers:
    """Catalogue managers change; qualifiers look (when `qualifiers_see`); others see nothing."""

    qualifiers_see = True

    def _sees(self, request) -> bool:
        return roles.is_catalogue_manager(request.user) or (self.qualifiers_see and roles.is_qualifier(request.user))

    def has_module_permission(self, request) -> bool:
        return self._sees(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._sees(request)

    def has_add_permission(self, request, *args) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Rows that orders point to are protected: the admin says so instead of deleting.
        return roles.is_catalogue_manager(request.user)


class ReadOnlyForCatalogueManagers:
    """Records of what happened: catalogue managers look, no one edits or deletes here."""

    def has_module_permission(self, request) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(ManagedByCatalogueManagers, admin.ModelAdmin):
    list_display = ("name", "kind", "siret")
    list_filter = ("kind",)
    search_fields = ("name", "siret")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(UserProfile)
class UserProfileAdmin(AuditedAdmin, ManagedByCatalogueManagers, admin.ModelAdmin):
    qualifiers_see = False
    list_display = ("user", "organisation", "provider")
    list_filter = ("organisation",)
    list_select_related = ("user", "organisation", "provider")
    search_fields = ("user__username", "user__last_name", "organisation__name", "provider__name")
    autocomplete_fields = ("organisation", "provider")


class LotInline(ManagedByCatalogueManagers, admin.TabularInline):
    model = Lot
    fields = ("number", "title", "service_model", "ceiling")
    extra = 0
    show_change_link = True


@admin.register(FrameworkContract)
class FrameworkContractAdmin(AuditedAdmin, ManagedByCatalogueManagers, admin.ModelAdmin):
    list_display = ("reference", "title", "purchasing_body", "holder", "starts_on", "ends_on", "status",
                    "ceiling")
    list_filter = ("purchasing_body",)
    search_fields = ("reference", "title", "holder")
    prepopulated_fields = {"slug": ("reference",)}
    # Kept by the order services under the row locks: shown, never edited here.
    readonly_fields = ("committed_amount", "created_at")
    inlines = (LotInline,)

    @admin.display(description=_("statut"))
    def status(self, framework: FrameworkContract) -> str:
        return FrameworkStatus(framework.status_on(timezone.localdate())).label


class ReferencingInline(ManagedByCatalogueManagers, admin.TabularInline):
    model = Referencing
    fields = ("offer", "discount_percent", "referenced_on")
    readonly_fields = ("referenced_on",)
    autocomplete_fields = ("offer",)
    extra = 0


@admin.register(Lot)
class LotAdmin(AuditedAdmin, ManagedByCatalogueManagers, admin.ModelAdmin):
    list_display = ("__str__", "framework", "service_model", "ceiling")
    list_filter = ("framework",)
    list_select_related = ("framework",)
    search_fields = ("title", "framework__reference")
    readonly_fields = ("committed_amount",)
    inlines = (ReferencingInline,)


class OrderEventInline(ReadOnlyForCatalogueManagers, admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "actor", "status_from", "status_to", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Order)
class OrderAdmin(ReadOnlyForCatalogueManagers, admin.ModelAdmin):
    list_display = ("reference", "organisation", "offer_name", "provider_name", "amount", "status",
                    "continuity_risk", "created_at")
    list_filter = ("status", "continuity_risk", "framework", "organisation")
    list_select_related = ("organisation",)
    search_fields = ("reference", "offer_name", "provider_name", "organisation__name")
    date_hierarchy = "created_at"
    inlines = (OrderEventInline,)


class RecordedSearchItemInline(ReadOnlyForCatalogueManagers, admin.TabularInline):
    model = RecordedSearchItem
    fields = ("position", "provider_name", "offer_name", "service_model", "qualification_status",
              "decision_number", "valid_until")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(RecordedSearch)
class RecordedSearchAdmin(ReadOnlyForCatalogueManagers, admin.ModelAdmin):
    list_display = ("__str__", "owner", "organisation", "result_count", "created_at")
    list_filter = ("organisation",)
    list_select_related = ("owner", "organisation")
    search_fields = ("title", "owner__username", "organisation__name")
    inlines = (RecordedSearchItemInline,)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyForCatalogueManagers, admin.ModelAdmin):
    list_display = ("title", "recipient", "kind", "created_at", "read_at", "email_sent_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("title", "recipient__username")
