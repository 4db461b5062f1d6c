from django.db import connection
from django.http import JsonResponse

from helpdesk.permissions import public_view


@public_view("load balancer and container health checks")
def healthz(request):
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
