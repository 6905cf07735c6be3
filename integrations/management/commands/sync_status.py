import json

from django.core.management.base import BaseCommand

from integrations.overview import status_summary, sync_overview


class Command(BaseCommand):
    help = (
        "Summarise sync across the installation: connections by state, changes waiting to be pushed, "
        "pull lag percentiles, push channels about to expire."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the summary as JSON.")

    def handle(self, *args, as_json=False, **options):
        summary = status_summary(sync_overview())
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, sort_keys=True))
            return
        connections = ", ".join(f"{state} {n}" for state, n in summary["connections"].items())
        outbox, lag = summary["outbox"], summary["pull_lag_seconds"]
        self.stdout.write(f"Connections:    {connections}")
        for reason, words in (("due", "due to be pushed"), ("held", "held until someone reconnects")):
            backlog = outbox[reason]
            oldest = f", oldest {_duration(backlog['oldest_seconds'])}" if backlog["changes"] else ""
            label = "Outbox:" if reason == "due" else ""
            self.stdout.write(f"{label:<16}{backlog['changes']} change(s) {words}{oldest}")
        if lag["calendars"]:
            shown = ", ".join(f"{name} {_duration(lag[name])}" for name in ("p50", "p90", "p99", "max"))
            self.stdout.write(f"Pull lag:       {lag['calendars']} calendar(s): {shown}")
        else:
            self.stdout.write("Pull lag:       no calendar of an active connection has been pulled")
        if lag["never_pulled"]:
            self.stdout.write(f"                {lag['never_pulled']} calendar(s) never pulled")
        self.stdout.write(f"Push channels:  {summary['channels_expiring_24h']} expiring within 24 h")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
