"""Pages for notifications."""

urlpatterns: list = []
