"""The API's JSON parser, held to the same body-size limit as Django's form parsing.

Django enforces DATA_UPLOAD_MAX_MEMORY_SIZE when it reads `request.body` or a form, but DRF
parses JSON straight from the stream, so without this a client could send any size of body.
A module of its own: REST_FRAMEWORK's parser classes are imported while DRF's views are.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit is not None and length > limit:
            raise ParseError(_("Le corps de la requête fait %(size)s octets : %(limit)s au plus.")
                             % {"size": length, "limit": limit})
        return super().parse(stream, media_type, parser_context)
