"""The OpenAPI schema generator: drf-spectacular's, true to what a blank model field answers."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers


class AutoSchema(openapi.AutoSchema):
    """Document "" as a value of the choice and URL fields that may be left blank.

    DRF drops `allow_blank` from read-only model fields, so a blank `milestone` or `website`
    would otherwise be documented as an enum or a URI that "" does not match; and a URI
    format refuses "" even where the serializer allows it.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not _may_be_blank(field):
            return schema
        if isinstance(field, serializers.ChoiceField) and "" not in schema.get("enum", [""]):
            schema["enum"] = [*schema["enum"], ""]
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.URLField) and schema.get("format") == "uri" and _may_be_blank(field):
            del schema["format"]
            schema["anyOf"] = [{"format": "uri"}, {"maxLength": 0}]


def _may_be_blank(field) -> bool:
    if getattr(field, "allow_blank", False):
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if not field.read_only or model is None or len(getattr(field, "source_attrs", ())) != 1:
        return False
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return False
    return getattr(model_field, "blank", False)
