"""API of the inbox: the caller's notifications only (another user's answers 404), marked read by POST."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from procurement.models import Notification
from procurement.selectors.notifications import notifications_for
from procurement.services.notifications import notification_mark_read, notifications_mark_all_read

NOT_FOUND = OpenApiResponse(description=_("Inconnue, ou adressée à quelqu'un d'autre."))


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "body", "link", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(help_text=_("Nombre de notifications marquées comme lues."))


class NotificationFilterSet(django_filters.FilterSet):
    # A strict choice rather than BooleanFilter, which silently ignores a value it cannot read.
    unread = django_filters.ChoiceFilter(
        label=_("Non lues seulement (true) ou lues seulement (false)"),
        choices=[("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")], method="filter_unread",
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value in ("true", "1"))


@extend_schema_view(
    list=extend_schema(summary=_("Mes notifications"), tags=["notifications"]),
    retrieve=extend_schema(summary=_("Une de mes notifications"), tags=["notifications"],
                           responses={200: NotificationSerializer, 404: NOT_FOUND}),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's inbox, newest first."""

    serializer_class = NotificationSerializer
    permission_classes = (permissions.IsAuthenticated,)
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        return notifications_for(user=self.request.user)

    @extend_schema(summary=_("Marquer une notification comme lue"), tags=["notifications"], request=None,
                   responses={200: NotificationSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        try:
            notification = notification_mark_read(user=request.user, notification_id=int(pk))
        except (Notification.DoesNotExist, ValueError) as missing:
            raise NotFound() from missing
        return Response(self.get_serializer(notification).data)

    @extend_schema(summary=_("Marquer toutes mes notifications comme lues"), tags=["notifications"],
                   request=None, responses={200: MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked_read": notifications_mark_all_read(user=request.user)})


# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = [("notifications", NotificationViewSet, "notification")]
