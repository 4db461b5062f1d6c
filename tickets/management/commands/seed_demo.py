from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.demo import DEMO_PASSWORD, DemoDataExists, seed_demo_data


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


class Command(BaseCommand):
    help = "Create demo staff, teams, mailboxes and a believable set of customers and tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=_positive, default=2000)
        parser.add_argument("--tickets", type=int, help="Default: five per customer.")
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument(
            "--reset", action="store_true", help="Delete the previous demo data first."
        )

    def handle(self, *args, customers: int, tickets: int | None, password: str, reset: bool,
               **options) -> None:  # fmt: skip
        if tickets is not None and tickets < 0:
            raise CommandError("--tickets cannot be negative.")
        if not password:
            raise CommandError("--password cannot be empty.")
        try:
            summary = seed_demo_data(
                customers=customers,
                tickets=tickets,
                password=password,
                reset=reset,
                progress=lambda line: self.stdout.write(f"  {line}"),
            )
        except DemoDataExists as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.customers} customers ({summary.organisations} organisations), "
                f"{summary.purchases} purchases, {summary.tickets} tickets with "
                f"{summary.messages} messages in {summary.seconds:.1f} s."
            )
        )
        self.stdout.write(f"Open {settings.SITE_URL}/ and log in as admin, lead or agent")
        self.stdout.write(f"  admin / {password}\n  lead  / {password}\n  agent / {password}")
