"""Pages for searches."""

urlpatterns: list = []
