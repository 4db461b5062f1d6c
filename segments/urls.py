from django.urls import path

from segments import views, views_outreach, views_reports

app_name = "segments"

urlpatterns = [
    path("", views.segmentation_list, name="segmentations"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="run_progress"),
    path("rules/preview/", views.rule_preview, name="rule_preview"),
    path("segment/<int:segment_id>/", views.segment_detail, name="segment"),
    path("segment/<int:segment_id>/members.csv", views.segment_export, name="segment_export"),
    path("segment/<int:segment_id>/edit/", views.segment_edit, name="segment_edit"),
    path("segment/<int:segment_id>/rules/", views.rule_segment_edit, name="rule_segment_edit"),
    path("reports/", views_reports.segment_report, name="report"),
    path("reports/<slug:table>.csv", views_reports.segment_report_csv, name="report_csv"),
    path("outreach/", views_outreach.campaign_list, name="campaigns"),
    path("outreach/new/", views_outreach.campaign_new, name="campaign_new"),
    path("outreach/<int:campaign_id>/", views_outreach.campaign_detail, name="campaign"),
    path(
        "outreach/<int:campaign_id>/progress/",
        views_outreach.campaign_progress,
        name="campaign_progress",
    ),
    path("outreach/<int:campaign_id>/test/", views_outreach.campaign_test, name="campaign_test"),
    path("outreach/<int:campaign_id>/send/", views_outreach.campaign_send, name="campaign_send"),
    path("unsubscribe/<str:token>/", views_outreach.unsubscribe, name="unsubscribe"),
    path("<slug:slug>/", views.segmentation_detail, name="segmentation"),
    path("<slug:slug>/run/", views.start_run, name="start_run"),
    path("<slug:slug>/rules/new/", views.rule_segment_new, name="rule_segment_new"),
]
