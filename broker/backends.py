"""Authentication: lockout check, and the signed-in user loaded with what every request reads of it."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import backends, get_user_model
from rest_framework import authentication

# roles.organisation_of / roles.provider_of read these on most requests (the header, the scope of a search,
# the orders): loaded with the user in one query instead of two more.
USER_RELATED = ("profile__organisation", "profile__provider")


class LockoutBackend(AxesStandaloneBackend):
    """django-axes's lockout check, for the authentications that come with a request.

    Both login channels, the login page and the token endpoint, pass the request. An authenticate() call
    without one (Django's test client login(), a shell) comes from no client that could guess passwords,
    and Axes could not tell which address to count: it is left to the next backend instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class UserBackend(backends.ModelBackend):
    """Django's username and password backend; a session's user comes with their profile."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related(*USER_RELATED).filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; the token's user comes with their profile."""

    def authenticate_credentials(self, key):
        related = ("user", *(f"user__{name}" for name in USER_RELATED))
        token = self.get_model().objects.select_related(*related).filter(key=key).first()
        if token is None or not token.user.is_active:
            return super().authenticate_credentials(key)  # DRF's own refusal and message
        return token.user, token
