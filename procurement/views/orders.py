"""Pages for orders: the list, drafting from an offer, one order with the actions its reader may take.

Thin: the selector scopes what a user sees (a foreign order is a 404), the services
enforce every rule, and procurement/rules.py decides which buttons a page shows.
A refusal is shown with the service's own message, the user's input kept.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from broker.errors import RuleViolation
from catalogue.models import Offer
from catalogue.selectors import offers_visible, today_local
from procurement import rules
from procurement.forms import OrderFilterSet, OrderForm, ReasonForm
from procurement.models import Order, OrderStatus, Referencing
from procurement.selectors import orders as selectors
from procurement.services import orders as services

PAGE_SIZE = 20

# DSFR badge colour for each order status.
STATUS_BADGES = {
    OrderStatus.DRAFT: "fr-badge--new",
    OrderStatus.SUBMITTED: "fr-badge--info",
    OrderStatus.APPROVED: "fr-badge--success",
    OrderStatus.REJECTED: "fr-badge--error",
    OrderStatus.FULFILLED: "fr-badge--success",
    OrderStatus.CANCELLED: "fr-badge--warning",
}

# The workflow buttons of an order page, in the order shown: action, label, whether a reason is asked.
ACTION_BUTTONS = (
    (rules.SUBMIT, gettext_lazy("Soumettre à validation"), False),
    (rules.APPROVE, gettext_lazy("Valider la commande"), False),
    (rules.REJECT, gettext_lazy("Rejeter"), True),
    (rules.FULFIL, gettext_lazy("Déclarer exécutée"), False),
    (rules.CANCEL, gettext_lazy("Annuler la commande"), True),
)

SUCCESS_MESSAGES = {
    rules.SUBMIT: gettext_lazy("La commande %(reference)s est soumise à validation."),
    rules.APPROVE: gettext_lazy("La commande %(reference)s est validée."),
    rules.REJECT: gettext_lazy("La commande %(reference)s est rejetée."),
    rules.FULFIL: gettext_lazy("La commande %(reference)s est déclarée exécutée."),
    rules.CANCEL: gettext_lazy("La commande %(reference)s est annulée."),
}


def _badge(order: Order) -> Order:
    order.status_badge = STATUS_BADGES[order.status]
    return order


def _visible_order(request: HttpRequest, reference: str) -> Order:
    try:
        return selectors.order_detail(reference=reference, user=request.user)
    except Order.DoesNotExist:
        raise Http404(_("Cette commande n'existe pas ou ne vous est pas accessible.")) from None


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    filterset = OrderFilterSet(request.GET or None, queryset=selectors.order_list(user=request.user))
    orders = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    for order in page.object_list:
        _badge(order)
    return render(request, "procurement/order_list.html", {
        "filterset": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "ellipsis": Paginator.ELLIPSIS,
        "may_create": rules.may_create_order(request.user),
    })


def _render_form(request: HttpRequest, *, form: OrderForm, offer: Offer, order: Order | None = None,
                 quote: tuple | None = None, status: int = 200) -> HttpResponse:
    return render(request, "procurement/order_form.html", {
        "form": form, "offer": offer, "order": order, "quote": quote,
    }, status=status)


def _quote(form: OrderForm) -> tuple:
    """(unit price, amount) for the chosen lot and quantity, computed as the server will on saving."""
    referencing: Referencing = form.cleaned_data["referencing"]
    return services.order_price(referencing=referencing, quantity=form.cleaned_data["quantity"])


@login_required
def order_create(request: HttpRequest) -> HttpResponse:
    if not rules.may_create_order(request.user):
        raise PermissionDenied(_("Seuls les acheteurs et valideurs d'une administration peuvent commander."))
    slug = request.POST.get("offer") or request.GET.get("offer")
    if not slug:
        messages.info(request, _("Choisissez d'abord une offre dans le catalogue, puis « Commander »."))
        return redirect("catalogue:offer-list")
    offer = offers_visible(user=request.user).filter(slug=slug).select_related("provider").first()
    if offer is None:
        raise Http404(_("Cette offre n'existe pas ou n'est pas publiée."))
    today = today_local()
    if request.method != "POST":
        form = OrderForm(offer=offer, user=request.user, today=today,
                         initial={"idempotency_key": uuid.uuid4().hex, "starts_on": today})
        return _render_form(request, form=form, offer=offer)
    form = OrderForm(request.POST, offer=offer, user=request.user, today=today)
    if not form.is_valid():
        return _render_form(request, form=form, offer=offer)
    try:
        if "preview" in request.POST:
            return _render_form(request, form=form, offer=offer, quote=_quote(form))
        order, created = services.order_create(user=request.user, data=form.order_data(),
                                               idempotency_key=form.cleaned_data["idempotency_key"] or None,
                                               today=today)
    except RuleViolation as violation:
        form.add_violation(violation)
        return _render_form(request, form=form, offer=offer)
    if created:
        messages.success(request, _("Brouillon %(reference)s enregistré. Vérifiez-le puis soumettez-le à "
                                    "validation.") % {"reference": order.reference})
    return redirect(order)


@login_required
def order_edit(request: HttpRequest, reference: str) -> HttpResponse:
    order = _visible_order(request, reference)
    if not rules.role_allows(rules.UPDATE, order=order, user=request.user):
        raise PermissionDenied(str(rules.REFUSALS[rules.UPDATE]))
    if order.status != OrderStatus.DRAFT:
        messages.warning(request, _("Seul un brouillon peut être modifié."))
        return redirect(order)
    today = today_local()
    offer = order.offer
    if request.method != "POST":
        referencing = Referencing.objects.filter(lot=order.lot, offer=offer).first()
        form = OrderForm(offer=offer, user=request.user, today=today, initial={
            "referencing": referencing, "quantity": order.quantity, "sensitivity": order.sensitivity,
            "starts_on": order.starts_on, "ends_on": order.ends_on, "justification": order.justification,
            "search": order.search_id,
        })
        return _render_form(request, form=form, offer=offer, order=order)
    form = OrderForm(request.POST, offer=offer, user=request.user, today=today)
    if not form.is_valid():
        return _render_form(request, form=form, offer=offer, order=order)
    try:
        if "preview" in request.POST:
            return _render_form(request, form=form, offer=offer, order=order, quote=_quote(form))
        services.order_update(order=order, user=request.user, data=form.order_data())
    except RuleViolation as violation:
        form.add_violation(violation)
        return _render_form(request, form=form, offer=offer, order=order)
    messages.success(request, _("Brouillon %(reference)s modifié.") % {"reference": order.reference})
    return redirect(order)


def _render_detail(request: HttpRequest, order: Order, *, today: date, violation: RuleViolation | None = None,
                   failed_action: str | None = None, reason_form: ReasonForm | None = None) -> HttpResponse:
    abilities = rules.order_abilities(order=order, user=request.user)
    buttons = [
        {"action": action, "label": label, "with_reason": with_reason,
         "form": reason_form if (reason_form is not None and action == failed_action)
         else ReasonForm(auto_id=f"id_{action}_%s")}
        for action, label, with_reason in ACTION_BUTTONS if abilities[action]
    ]
    preview = None
    if order.status == OrderStatus.DRAFT:
        preview = selectors.order_preview_verdict(order=order, today=today)
    return render(request, "procurement/order_detail.html", {
        "order": _badge(order),
        "abilities": abilities,
        "buttons": buttons,
        "preview": preview,
        "violation": violation,
        "failed_action": failed_action,
        "today": today,
        "events": order.events.all(),
    })


@login_required
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_detail(request, _visible_order(request, reference), today=today_local())


@login_required
@require_POST
def order_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    order = _visible_order(request, reference)
    today = today_local()
    reason_form = ReasonForm(request.POST, auto_id=f"id_{action}_%s")
    if not reason_form.is_valid():
        return _render_detail(request, order, today=today, failed_action=action, reason_form=reason_form)
    reason = reason_form.cleaned_data["reason"]
    try:
        if action == rules.SUBMIT:
            services.order_submit(order=order, user=request.user, today=today)
        elif action == rules.APPROVE:
            services.order_approve(order=order, user=request.user, today=today)
        elif action == rules.REJECT:
            services.order_reject(order=order, user=request.user, reason=reason)
        elif action == rules.CANCEL:
            services.order_cancel(order=order, user=request.user, reason=reason)
        else:
            services.order_fulfil(order=order, user=request.user)
    except RuleViolation as violation:
        if violation.field == "reason":
            reason_form.add_error("reason", violation.message)
        return _render_detail(request, _visible_order(request, reference), today=today, violation=violation,
                              failed_action=action, reason_form=reason_form)
    messages.success(request, SUCCESS_MESSAGES[action] % {"reference": order.reference})
    return redirect(order)


urlpatterns: list = [
    path("commandes/", order_list, name="order-list"),
    path("commandes/nouvelle/", order_create, name="order-create"),
    path("commandes/<str:reference>/", order_detail, name="order-detail"),
    path("commandes/<str:reference>/modifier/", order_edit, name="order-edit"),
    re_path(r"^commandes/(?P<reference>[^/]+)/(?P<action>submit|approve|reject|cancel|fulfil)/$", order_action,
            name="order-action"),
]
