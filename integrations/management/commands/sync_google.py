from django.core.management.base import BaseCommand

from integrations.google import pull, push, resync
from integrations.models import GoogleConnection


class Command(BaseCommand):
    help = "Push waiting appointment changes to Google and pull Google's changes now, printing what happened."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's connections (email).")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Rewrite every upcoming appointment and do full pulls (drops sync tokens).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what a push would do; call nothing.")

    def handle(self, *args, user=None, full=False, dry_run=False, **options):
        connections = GoogleConnection.objects.filter(state=GoogleConnection.State.ACTIVE).select_related(
            "user"
        )
        if user:
            connections = connections.filter(user__email__iexact=user)
        for connection in connections.order_by("user__email"):
            self.stdout.write(f"{connection.google_email} (user {connection.user.email}):")
            if dry_run:
                for link, action in push.preview(connection):
                    self.stdout.write(f"  would {action}: {link.appointment} for {link.member.display_name}")
                continue
            if full:
                pushed = resync.resync_linked_calendar(connection.pk)
                connection.calendars.update(sync_token="")
            else:
                pushed = push.push_due_links(connection.pk)
            pulled = pull.pull_account(connection.pk)
            self.stdout.write(f"  pushed: {_counts(pushed)}")
            self.stdout.write(f"  pulled: {_counts(pulled)}")
        if not connections.exists():
            self.stdout.write("No active Google connections.")


def _counts(counts) -> str:
    if not isinstance(counts, dict) or not counts:
        return "nothing to do"
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items()))
