from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk import views
from helpdesk.login_throttle import ThrottledLoginView
from helpdesk.permissions import public_view

urlpatterns = [
    path("", include("tickets.urls")),
    path("surveys/", include("surveys.urls")),
    path("segments/", include("segments.urls")),
    path(
        "login/",
        public_view("staff sign in")(ThrottledLoginView.as_view()),
        name="login",
    ),
    path("logout/", public_view("staff sign out")(auth_views.LogoutView.as_view()), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("api/", include("tickets.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start script as a file, which the CSP allows.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
