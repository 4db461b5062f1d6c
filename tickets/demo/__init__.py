"""Demo data for trying the help desk and for benchmarks; see ``seed_demo_data``."""

from tickets.demo.seed import (
    DEMO_PASSWORD,
    DemoDataExists,
    DemoSummary,
    demo_customers,
    seed_demo_data,
)

__all__ = ["DEMO_PASSWORD", "DemoDataExists", "DemoSummary", "demo_customers", "seed_demo_data"]
