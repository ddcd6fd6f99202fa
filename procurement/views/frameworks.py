"""Pages for frameworks."""

urlpatterns: list = []
