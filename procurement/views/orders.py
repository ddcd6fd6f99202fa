"""Pages for orders."""

urlpatterns: list = []
