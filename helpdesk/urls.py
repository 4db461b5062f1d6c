from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk import views
from helpdesk.permissions import public_view

urlpatterns = [
    path("", include("tickets.urls")),
    path("surveys/", include("surveys.urls")),
    path("segments/", include("segments.urls")),
    path(
        "login/",
        public_view("staff sign in")(
            auth_views.LoginView.as_view(redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("logout/", public_view("staff sign out")(auth_views.LogoutView.as_view()), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("api/", include("tickets.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
