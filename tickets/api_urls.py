from rest_framework.routers import SimpleRouter

from tickets.api import views

router = SimpleRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register(
    r"tickets/(?P<ticket_pk>[0-9]+)/messages", views.TicketMessageViewSet, basename="message"
)
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("purchases", views.PurchaseViewSet, basename="purchase")
router.register("tags", views.TagViewSet, basename="tag")

app_name = "api"
urlpatterns = router.urls
