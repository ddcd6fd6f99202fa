"""API-wide helpers: the exception handler that turns refusals into coded 400s."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
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
