import csv
import io

import pytest
from django.urls import reverse

from segments import report_selectors, reports
from segments.views_reports import BAR_CHARTS
from tests.segments.test_reports import NOW, PERIOD, generate

QUERY = {"segmentation": "behaviour", "start": "2025-03-01", "end": "2025-03-31"}


pytestmark = pytest.mark.usefixtures("empty_cache")


@pytest.fixture
def generated(db):
    return generate(seed=11, segment_count=3, customer_count=30, ticket_count=150)


def test_a_lead_sees_each_segment_beside_the_overall_figures_with_charts(
    lead_client, generated, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30):
        response = lead_client.get(reverse("segments:report"), QUERY)

    assert response.status_code == 200
    page = response.content.decode()
    report = response.context["report"]
    assert [line.label for line in report.segments[:3]] == ["Segment 0", "Segment 1", "Segment 2"]
    _, rows = response.context["tables"]["segments"]
    assert [row[0] for row in rows][:4] == ["All customers", "Segment 0", "Segment 1", "Segment 2"]
    lines = [report.overall, *report.segments]
    drawn = [(line, attribute) for _, attribute, _ in BAR_CHARTS for line in lines]
    assert page.count('data-testid="bar"') == sum(
        getattr(line, attribute) is not None for line, attribute in drawn
    )
    assert page.count('data-testid="bar"') >= 4 * 4  # every chart: all customers and 3 segments
    assert 'data-testid="chart-volume"' in page and "<polyline" in page
    for table in reports.TABLES:
        assert f'data-testid="csv-{table}"' in page


def test_the_page_is_for_leads(agent_client, client, db):
    assert agent_client.get(reverse("segments:report")).status_code == 403
    client.logout()
    assert client.get(reverse("segments:report")).status_code == 302


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-03-31", "end": "2025-03-01"}, "must not be before"),
        ({"start": "yesterday", "end": "2025-03-01"}, "Enter a valid date"),
        ({"start": "2020-01-01", "end": "2025-03-01"}, "at most 731 days"),
        ({"segmentation": "nope"}, "Select a valid choice"),
    ],
)
def test_bad_parameters_are_a_clear_error(lead_client, generated, params, message):
    response = lead_client.get(reverse("segments:report"), {**QUERY, **params})

    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("table", reports.TABLES)
def test_every_table_exports_as_csv(lead_client, generated, table):
    response = lead_client.get(reverse("segments:report_csv", args=[table]), QUERY)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert f"report-{table}-2025-03-01-2025-03-31.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    report = report_selectors.segment_report(segmentation=generated, period=PERIOD, now=NOW)
    header, expected = reports.table(report, table)
    assert rows[0] == header
    assert rows[1:] == [[str(cell) for cell in line] for line in expected]
    assert len(rows) > 2


def test_the_segments_csv_has_the_overall_row_first_then_each_segment(lead_client, generated):
    response = lead_client.get(reverse("segments:report_csv", args=["segments"]), QUERY)

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["Segment"] for row in rows] == [
        "All customers",
        "Segment 0",
        "Segment 1",
        "Segment 2",
        "Not in a segment",
    ]
    assert sum(int(row["Tickets"]) for row in rows[1:]) == int(rows[0]["Tickets"])


def test_an_unknown_table_is_not_found(lead_client, db):
    assert lead_client.get(reverse("segments:report_csv", args=["nope"]), QUERY).status_code == 404
