from django.core.management.base import BaseCommand, CommandError

from helpdesk.api_tokens import issue_token
from helpdesk.models import TokenScope, User


class Command(BaseCommand):
    help = "Issue a new API token for a staff user (replacing their earlier one) and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--access", choices=TokenScope.Access.values, default=TokenScope.Access.READ
        )

    def handle(self, *args, username: str, access: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        self.stdout.write(issue_token(user=user, access=TokenScope.Access(access)).key)
