"""French first: the interface language comes from the visitor's explicit choice, never the browser."""

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
