"""API-wide helpers: coded errors, the filter backend, authentication and the token endpoint."""

from axes.helpers import get_cool_off
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from broker.errors import RuleViolation
from broker.throttling import TokenRequestThrottle


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
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code in (status.HTTP_400_BAD_REQUEST,
                                                          status.HTTP_429_TOO_MANY_REQUESTS):
        response.data = _coded(response.data, default=getattr(exc, "default_code", "invalid"))
    return response


def _coded(data, *, default: str) -> dict:
    """Give every 400 body the documented shape: a `code`, then the per-field lists or a `detail` message."""
    if isinstance(data, dict):
        return data if "code" in data else {"code": default, **data}
    messages = data if isinstance(data, list) else [data]
    return {"code": default, "detail": " ".join(str(message) for message in messages)}


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


def locked_out_response() -> Response:
    """The token endpoint's answer to a username and address locked out by django-axes, with Retry-After."""
    cool_off = get_cool_off()
    response = Response(
        {
            "code": "locked_out",
            "detail": _("Trop d'échecs de connexion pour cet identifiant depuis cette adresse : "
                        "réessayer dans %(minutes)d minutes.") % {"minutes": int(cool_off.total_seconds() // 60)},
        },
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


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
            429: OpenApiResponse(ErrorSerializer, description=_(
                "Trop de requêtes depuis cette adresse, ou trop d'échecs pour cet identifiant depuis cette "
                "adresse (code locked_out) : réessayer après le délai de l'en-tête Retry-After."
            )),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # Set by django-axes during authenticate(): too many failures, even if this password is right.
        if getattr(request, "axes_locked_out", False):
            return locked_out_response()
        if not valid:
            errors = serializer.errors
            if set(errors) == {"non_field_errors"}:
                raise RuleViolation("invalid_credentials", " ".join(str(e) for e in errors["non_field_errors"]))
            raise ValidationError(errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
