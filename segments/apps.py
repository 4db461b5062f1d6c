from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from segments import selectors
        from tickets import extensions

        extensions.register_badge_provider(selectors.badges_by_customer)
        extensions.register_customer_filter(selectors.SEGMENT_FILTER)
        extensions.register_customer_panel(selectors.customer_segments_panel)
        selectors.watch_changes()
