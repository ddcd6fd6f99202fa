"""Admin of the catalogue.

Catalogue managers (DINUM) keep providers and offers; qualifiers (ANSSI) see
them. Qualifiers, and only they, change qualifications, always through
`catalogue.services` with a reason, so the admin writes the same history as
the API and the import; catalogue managers see qualifications read-only. No
one deletes an offer or a qualification: the history must stay. Permissions
come from `broker.roles`, not from Django's per-model permissions, so the
admin obeys the same rules as every other channel.
"""

from __future__ import annotations

import io
from datetime import timedelta
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import models, transaction
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from audit.admin import AuditedAdmin
from broker import roles
from broker.errors import RuleViolation
from catalogue.countries import COUNTRY_CODES
from catalogue.freshness import bump_after_commit
from catalogue.importer import COLUMNS as IMPORT_COLUMNS
from catalogue.importer import ImportFileError, ImportReport, qualifications_import
from catalogue.models import (
    Certification,
    Offer,
    OfferLocation,
    Provider,
    Qualification,
    QualificationEvent,
    QualificationStatus,
)
from catalogue.models.revision import PROVIDER_EDITABLE_FIELDS
from catalogue.services import (
    QUALIFICATION_FIELDS,
    qualification_renew,
    qualification_update,
    qualifications_set_status,
)
from catalogue.services.providers import provider_update_profile


def _sees_catalogue(request) -> bool:
    return roles.is_catalogue_manager(request.user) or roles.is_qualifier(request.user)


class CatalogueManagerPermissions:
    """Catalogue managers add and change; qualifiers only look; no one deletes (withdraw instead)."""

    def has_module_permission(self, request) -> bool:
        return _sees_catalogue(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _sees_catalogue(request)

    def has_add_permission(self, request, *args) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return roles.is_catalogue_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CatalogueManagerInlinePermissions(CatalogueManagerPermissions):
    """Locations and certifications are parts of an offer: catalogue managers may remove them."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return roles.is_catalogue_manager(request.user)


# --- Providers and offers --------------------------------------------------

# --- Provider profile changes (vendor space rules, in the admin too) ----------
# A provider's profile changed here goes through provider_update_profile, as in the
# vendor space and the API: recorded (ProviderChange), and told to ANSSI and to the
# customers with active orders when it touches SecNumCloud §19.6.


class ProviderAdminForm(forms.ModelForm):
    def _country_codes(self, name: str) -> list[str]:
        codes = self.cleaned_data.get(name) or []
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise forms.ValidationError(_("Une liste de codes pays, par exemple [\"FR\", \"DE\"]."))
        unknown = sorted({code.upper() for code in codes} - COUNTRY_CODES)
        if unknown:
            raise forms.ValidationError(_("Pays inconnu : %(codes)s.") % {"codes": ", ".join(unknown)})
        return sorted({code.upper() for code in codes})

    def clean_data_locations(self) -> list[str]:
        return self._country_codes("data_locations")

    def clean_support_locations(self) -> list[str]:
        return self._country_codes("support_locations")


class ProviderChangesMixin:
    form = ProviderAdminForm

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            return super().save_model(request, obj, form, change)
        profile = {name: form.cleaned_data[name] for name in form.changed_data if name in PROVIDER_EDITABLE_FIELDS}
        others = [name for name in form.changed_data if name not in PROVIDER_EDITABLE_FIELDS]
        with transaction.atomic():
            if others:
                Provider.objects.filter(pk=obj.pk).update(updated_at=timezone.now(),
                                                          **{name: getattr(obj, name) for name in others})
                bump_after_commit()  # update() sends no post_save
                obj.refresh_offer_copies()
            if profile:
                provider_update_profile(provider=obj, user=request.user, values=profile)
        return None


@admin.register(Provider)
class ProviderAdmin(ProviderChangesMixin, CatalogueManagerPermissions, admin.ModelAdmin):
    list_display = ("name", "seat_country", "largest_non_eu_holding", "total_non_eu_holding", "passes_19_6")
    list_filter = ("seat_country",)
    search_fields = ("name", "legal_name", "siren")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("sovereignty_check", "created_at", "updated_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description=_("§19.6"))
    def passes_19_6(self, provider: Provider) -> bool:
        return provider.passes_sovereignty

    @admin.display(description=_("contrôle SecNumCloud §19.6"))
    def sovereignty_check(self, provider: Provider) -> str:
        failures = provider.sovereignty_failures
        if not failures:
            return _("Satisfait : siège dans l'UE, détentions hors UE sous les plafonds.")
        return format_html_join("\n", "<p>{}</p>", ((str(reason),) for reason in failures))


class OfferLocationInline(CatalogueManagerInlinePermissions, admin.TabularInline):
    model = OfferLocation
    extra = 0


class CertificationInline(CatalogueManagerInlinePermissions, admin.TabularInline):
    model = Certification
    extra = 0


@admin.register(Offer)
class OfferAdmin(AuditedAdmin, CatalogueManagerPermissions, admin.ModelAdmin):
    list_display = ("name", "provider", "service_model", "state", "qualification", "list_price", "price_unit")
    list_filter = ("state", "service_model", "provider")
    list_select_related = ("provider",)
    search_fields = ("name", "provider__name", "category")
    autocomplete_fields = ("provider",)
    prepopulated_fields = {"slug": ("name",)}
    # The publication state moves through the review pipeline (OFFER_TRANSITIONS), never by hand here.
    readonly_fields = ("state", "published_at", "created_at", "updated_at")
    inlines = (OfferLocationInline, CertificationInline)

    def get_queryset(self, request):
        current = Qualification.objects.filter(is_current=True)
        return super().get_queryset(request).prefetch_related(
            Prefetch("qualifications", queryset=current, to_attr="current_qualifications"))

    @admin.display(description=_("qualification"))
    def qualification(self, offer: Offer) -> str:
        current = offer.current_qualification
        return current.get_status_display() if current else "—"


# --- Qualifications --------------------------------------------------------

def _sees_qualifications(request) -> bool:
    return roles.is_qualifier(request.user) or roles.is_catalogue_manager(request.user)


class _TrialRollback(Exception):
    """Raised to undo a trial run of a service."""


class QualificationAdminForm(forms.ModelForm):
    """The decision's fields plus the reason the services require; the services judge the change."""

    reason = forms.CharField(
        label=_("motif du changement"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire : il est enregistré dans l'historique avec votre nom."),
    )
    # Set per request by QualificationAdmin.get_form (each call builds a new form class).
    user = None

    class Meta:
        model = Qualification
        fields = ("offer", *QUALIFICATION_FIELDS)

    def validate_unique(self) -> None:
        # One current decision per offer is the service's business: a new decision
        # (added here) retires the current one into the history instead of clashing.
        return None

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors:
            # The services are the only judge of the rules (transitions, dates,
            # reason). Run the change in a savepoint and undo it, so that a refusal
            # shows on the form; save_model then makes it for real.
            try:
                with transaction.atomic():
                    self.save_through_services()
                    raise _TrialRollback
            except _TrialRollback:
                pass
            except RuleViolation as refusal:
                self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        return cleaned

    def save_through_services(self) -> Qualification:
        values = {name: self.cleaned_data[name] for name in QUALIFICATION_FIELDS if name in self.cleaned_data}
        reason = self.cleaned_data.get("reason", "")
        if self.instance.pk is None:
            # A new decision: empty fields are left out so that the service's defaults apply.
            values = {name: value for name, value in values.items() if value not in (None, "")}
            return qualification_renew(offer=self.cleaned_data["offer"], user=self.user, values=values,
                                       reason=reason)
        changed = {name: values[name] for name in self.changed_data if name in values}
        return qualification_update(qualification=self.instance, user=self.user, values=changed, reason=reason)


class QualificationEventInline(admin.TabularInline):
    """The history of a decision: read-only for everyone."""

    model = QualificationEvent
    fields = ("created_at", "actor", "status_from", "status_to", "reason", "changes_display")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("historique")

    def has_view_permission(self, request, obj=None) -> bool:
        return _sees_qualifications(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("modifications"))
    def changes_display(self, event: QualificationEvent) -> str:
        return changes_html(event.changes)


def changes_html(changes: dict) -> str:
    """{field: [before, after]} as one line per field, with the field's name."""
    def label(name: str) -> str:
        try:
            return str(Qualification._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a field removed since the event was recorded
            return name
    return format_html_join(
        "\n", "<div>{} : {} → {}</div>",
        ((label(name), before if before not in (None, "") else "—", after if after not in (None, "") else "—")
         for name, (before, after) in sorted(changes.items())),
    )


class ExpiresWithinFilter(admin.SimpleListFilter):
    """Current decisions still in force whose validity ends within the chosen number of days."""

    title = _("expire dans")
    parameter_name = "expire_dans"
    DAYS = (30, 90, 180)

    def lookups(self, request, model_admin):
        return [(str(days), _("%(days)s jours") % {"days": days}) for days in self.DAYS]

    def queryset(self, request, queryset):
        if self.value() not in {str(days) for days in self.DAYS}:
            return queryset
        today = timezone.localdate()
        return queryset.filter(
            is_current=True, status__in=(QualificationStatus.QUALIFIED, QualificationStatus.SUSPENDED),
            valid_until__gte=today, valid_until__lte=today + timedelta(days=int(self.value())),
        )


class StatusChangeForm(forms.Form):
    reason = forms.CharField(label=_("motif"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Obligatoire : il est enregistré dans l'historique de chaque décision."))


# --- ANSSI list upload (qualifiers) ------------------------------------------
# A "Importer la liste ANSSI" button on the qualification list opens a form; the
# file runs through catalogue.importer.qualifications_import, the same service as
# the import_qualifications command, as the logged-in qualifier, and the page shows
# its report. A file that is not a readable CSV of the list changes nothing.

MAX_IMPORT_BYTES = 5 * 1024 * 1024


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stop storing an upload once it passes `limit` bytes: the rest of the body is read and dropped."""

    def __init__(self, request=None, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data  # on to Django's handlers, which store it

    def file_complete(self, file_size: int) -> None:
        return None


class QualificationImportForm(forms.Form):
    file = forms.FileField(label=_("fichier CSV de la liste ANSSI"))
    import_valid_rows = forms.BooleanField(
        label=_("importer les lignes valides même si d'autres sont rejetées"), required=False,
        help_text=_("Sans cette case, une seule ligne rejetée et rien n'est enregistré : corrigez le fichier."),
    )
    dry_run = forms.BooleanField(label=_("simulation (ne rien enregistrer)"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("Colonnes : %(columns)s. Encodage UTF-8, 5 Mo au plus.") % {
            "columns": ", ".join(IMPORT_COLUMNS)}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("Le fichier fait %(size)s : 5 Mo au plus.")
                                        % {"size": filesizeformat(upload.size)})
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(_("Le fichier doit être un CSV (extension .csv)."))
        raw = upload.read()
        if b"\x00" in raw:
            raise forms.ValidationError(_("Ce fichier n'est pas un texte CSV (contenu binaire)."))
        try:
            # utf-8-sig: a file saved by a spreadsheet starts with a byte-order mark.
            self.text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Le fichier n'est pas encodé en UTF-8 : enregistrez-le en « CSV UTF-8 »."))\
                from None
        return upload


def qualifications_import_upload(*, text: str, user, import_valid_rows: bool, dry_run: bool
                                 ) -> tuple[ImportReport, bool]:
    """Run the ANSSI import on an uploaded file; returns the report and whether anything was saved.

    Unless `import_valid_rows`, a single rejected row rolls the whole file back.
    """
    with transaction.atomic():
        report = qualifications_import(rows_file=io.StringIO(text, newline=""), user=user, dry_run=dry_run)
        applied = not dry_run and (import_valid_rows or not report.rejected)
        if not applied:
            transaction.set_rollback(True)
    return report, applied


class QualificationImportMixin:
    """The upload page of QualificationAdmin, for qualifiers (and superusers) only."""

    change_list_template = "admin/catalogue/qualification/change_list.html"

    def get_urls(self):
        return [
            path("importer/", self.admin_site.admin_view(csrf_exempt(self.import_view)),
                 name="catalogue_qualification_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_list": roles.is_qualifier(request.user)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        """Exempt from the CSRF middleware only so that the size limit is in place before the body is read;
        `_import_page` is CSRF-protected."""
        if not roles.is_qualifier(request.user):
            raise PermissionDenied
        limiter = SizeLimitedUploadHandler(request, limit=MAX_IMPORT_BYTES)
        request.upload_handlers.insert(0, limiter)
        return csrf_protect(partial(self._import_page, limiter=limiter))(request)

    def _import_page(self, request, *, limiter: SizeLimitedUploadHandler):
        form, report, applied, status = QualificationImportForm(), None, False, 200
        if request.method == "POST":
            files = request.FILES  # reads the body, through the size limit
            if limiter.exceeded:
                form = QualificationImportForm()
                # An unbound form takes errors directly: the page shows the file field with this message.
                form.errors["file"] = form.error_class([
                    _("Le fichier dépasse 5 Mo : il n'a pas été lu, rien n'a été importé.")])
                status = 400
            elif (form := QualificationImportForm(request.POST, files)).is_valid():
                try:
                    report, applied = qualifications_import_upload(
                        text=form.text, user=request.user, dry_run=form.cleaned_data["dry_run"],
                        import_valid_rows=form.cleaned_data["import_valid_rows"])
                except ImportFileError as refusal:
                    form.add_error("file", _("Fichier refusé, rien n'a été importé : %(reason)s")
                                   % {"reason": refusal.message})
                    status = 400
            else:
                status = 400
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalogue/qualification/import.html", {
            **self.admin_site.each_context(request),
            "title": _("Importer la liste ANSSI"),
            "form": form,
            "report": report,
            "applied": applied,
            "opts": self.model._meta,
            "max_size": MAX_IMPORT_BYTES,
        }, status=status)


@admin.register(Qualification)
class QualificationAdmin(QualificationImportMixin, admin.ModelAdmin):
    form = QualificationAdminForm
    list_display = ("offer_name", "provider", "status", "milestone", "decision_number", "qualified_on",
                    "valid_until", "days_left", "is_current")
    list_filter = ("status", ExpiresWithinFilter, "is_current")
    list_select_related = ("offer__provider",)
    search_fields = ("offer__name", "offer__provider__name", "decision_number")
    autocomplete_fields = ("offer",)
    ordering = ("-is_current", "valid_until", "offer__name")
    inlines = (QualificationEventInline,)
    actions = ("suspend", "mark_expired")

    # Only qualifiers (and superusers) change; catalogue managers look; no one deletes.

    def has_module_permission(self, request) -> bool:
        return _sees_qualifications(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _sees_qualifications(request)

    def has_add_permission(self, request) -> bool:
        return roles.is_qualifier(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        # A replaced decision is history: it is shown, never edited.
        return roles.is_qualifier(request.user) and (obj is None or obj.is_current)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        fields = ["offer", *QUALIFICATION_FIELDS]
        if obj is not None:
            fields += ["is_current", "created_at", "updated_at"]
        can_write = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        return [*fields, "reason"] if can_write else fields

    def get_readonly_fields(self, request, obj=None):
        return ("offer", "is_current", "created_at", "updated_at") if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change) -> None:
        # Never obj.save(): the services write the decision and its history row.
        saved = form.save_through_services()
        # The admin logs and redirects with `obj`: make it the row the service saved.
        for model_field in obj._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    @admin.display(description=_("offre"), ordering="offer__name")
    def offer_name(self, qualification: Qualification) -> str:
        return qualification.offer.name

    @admin.display(description=_("fournisseur"), ordering="offer__provider__name")
    def provider(self, qualification: Qualification) -> str:
        return qualification.offer.provider.name

    @admin.display(description=_("jours restants"), ordering="valid_until")
    def days_left(self, qualification: Qualification) -> str:
        days = qualification.days_left(today=timezone.localdate())
        return "—" if days is None else str(days)

    @admin.action(description=_("Suspendre les qualifications sélectionnées"), permissions=["change"])
    def suspend(self, request, queryset):
        return self._set_status(request, queryset, status=QualificationStatus.SUSPENDED, action="suspend")

    @admin.action(description=_("Marquer expirées les qualifications sélectionnées"), permissions=["change"])
    def mark_expired(self, request, queryset):
        return self._set_status(request, queryset, status=QualificationStatus.EXPIRED, action="mark_expired")

    def _set_status(self, request, queryset, *, status: str, action: str):
        """Ask for a reason on an intermediate page, then change each decision through the service."""
        form = StatusChangeForm(request.POST if "apply" in request.POST else None)
        queryset = queryset.select_related("offer__provider")
        if form.is_bound and form.is_valid():
            changed, refused = qualifications_set_status(qualifications=queryset, user=request.user,
                                                         status=status, reason=form.cleaned_data["reason"])
            self.message_user(request, ngettext(
                "%(count)s qualification passée au statut « %(status)s ».",
                "%(count)s qualifications passées au statut « %(status)s ».", changed,
            ) % {"count": changed, "status": QualificationStatus(status).label}, messages.SUCCESS)
            for refusal in refused:
                self.message_user(request, _("Refusé : %(refusal)s") % {"refusal": refusal}, messages.WARNING)
            return None
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/catalogue/qualification/set_status.html", {
            **self.admin_site.each_context(request),
            "title": _("Passer au statut « %(status)s »") % {"status": QualificationStatus(status).label},
            "status_label": QualificationStatus(status).label,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "media": self.media,
        })


@admin.register(QualificationEvent)
class QualificationEventAdmin(admin.ModelAdmin):
    """The whole history of qualification changes: read-only for everyone."""

    list_display = ("created_at", "offer", "status_from", "status_to", "actor", "reason")
    list_filter = ("status_to",)
    list_select_related = ("qualification__offer__provider", "actor")
    search_fields = ("qualification__offer__name", "qualification__offer__provider__name", "reason")
    fields = ("qualification", "created_at", "actor", "status_from", "status_to", "reason", "changes_display")
    readonly_fields = fields

    def has_module_permission(self, request) -> bool:
        return _sees_qualifications(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _sees_qualifications(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("offre"), ordering="qualification__offer__name")
    def offer(self, event: QualificationEvent) -> str:
        return str(event.qualification.offer)

    @admin.display(description=_("modifications"))
    def changes_display(self, event: QualificationEvent) -> str:
        return changes_html(event.changes)
