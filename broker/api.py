"""API-wide helpers: coded errors, the filter backend, authentication and the token endpoint."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from broker.errors import RuleViolation


def exception_handler(exc, context):
    """Answer business-rule refusals and model validation errors with a 400, never a 500."""
    if isinstance(exc, RuleViolation):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            body = {"code": "invalid", **exc.message_dict}
        else:
            body = {"code": "invalid", "detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer):
    """The body of a refused request (documentation only): a stable code and a readable message.

    Invalid input adds, for each field or parameter concerned, the list of its errors.
    """

    code = serializers.CharField(help_text=_("Code stable, lisible par une machine (par exemple invalid_filter)."))
    detail = serializers.CharField(required=False, help_text=_("Message lisible."))
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    field = serializers.CharField(required=False, help_text=_("Le champ concerné, quand il y en a un."))


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("À envoyer ensuite dans l'en-tête « Authorization: Token <clé> »."))


class TokenRequestThrottle(SimpleRateThrottle):
    """Slow down password guessing: a few token requests per minute and client address."""

    scope = "auth_token"
    rate = "20/minute"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and a password for the user's API token."""

    authentication_classes = ()
    throttle_classes = (TokenRequestThrottle,)

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary=_("Obtenir un jeton d'API"),
        request=AuthTokenSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description=_("Identifiants absents ou incorrects."),
                                 examples=[OpenApiExample("invalid_credentials", value={
                                     "code": "invalid_credentials",
                                     "detail": "Impossible de se connecter avec les informations "
                                               "d'identification fournies.",
                                 })]),
            429: OpenApiResponse(description=_("Trop de tentatives : réessayer dans une minute.")),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            errors = serializer.errors
            if set(errors) == {"non_field_errors"}:
                raise RuleViolation("invalid_credentials", " ".join(str(e) for e in errors["non_field_errors"]))
            raise ValidationError(errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
