"""Site-wide pages that belong to no app: the throttled login page."""

from django.contrib.auth import views as auth_views
from django.shortcuts import render

from broker.throttling import LoginRequestThrottle


class LoginView(auth_views.LoginView):
    """Django's login page, with password guessing slowed down per client address.

    Repeated failures for one username from one address are locked out by django-axes
    (registration/locked_out.html); this throttle bounds the attempts on many usernames.
    """

    def post(self, request, *args, **kwargs):
        throttle = LoginRequestThrottle()
        if not throttle.allow_request(request, self):
            wait = throttle.wait()
            response = render(request, "registration/throttled.html", {"wait_seconds": int(wait or 60)}, status=429)
            response["Retry-After"] = str(int(wait or 60))
            return response
        return super().post(request, *args, **kwargs)
