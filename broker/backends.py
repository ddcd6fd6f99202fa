"""Authentication backends."""

from axes.backends import AxesStandaloneBackend


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
