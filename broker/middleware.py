"""French first: the interface language comes from the visitor's explicit choice, never the browser.

Also the Content-Security-Policy middleware (CSPMiddleware).
"""

import csp.middleware
from django.conf import settings
from django.utils import translation


class ChosenLanguageMiddleware:
    """Activate the language chosen with the header's switch (the language cookie), French otherwise.

    Django's LocaleMiddleware would follow the browser's Accept-Language header;
    a State service answers in French unless the visitor asks for English.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's Content-Security-Policy header, with the request's nonce made at once.

    django-csp makes the nonce lazily, and its lazy object is false until something reads it, so
    django-dsfr's `{% if self.nonce %}` (dsfr_js, in dsfr/base.html) would never print it.
    """

    def process_request(self, request):
        super().process_request(request)
        str(request.csp_nonce)
