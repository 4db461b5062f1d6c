"""The OpenAPI schema and its docs page."""

import yaml
from django.core.management import call_command


def test_the_schema_generates_valid_openapi_without_warnings(db, tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert {
        "/api/tickets/",
        "/api/tickets/{id}/",
        "/api/tickets/{id}/reply/",
        "/api/tickets/{id}/notes/",
        "/api/tickets/{ticket_pk}/messages/",
        "/api/customers/",
        "/api/customers/{id}/",
        "/api/purchases/",
        "/api/tags/",
    } <= set(schema["paths"])
    ticket_filters = {p["name"] for p in schema["paths"]["/api/tickets/"]["get"]["parameters"]}
    assert {"status", "team", "assignee", "tag", "channel", "priority", "q", "customer"} <= (
        ticket_filters
    )
    bulk = schema["paths"]["/api/purchases/"]["post"]["requestBody"]["content"]
    assert bulk["application/json"]["schema"]["type"] == "array"
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_agents_get_the_schema_and_the_docs_page(agent_client):
    schema = agent_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = agent_client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Help desk API"
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()
