"""A long-running command, as a worker is: it beats until it is told to stop.

Every second it writes, to heartbeat-<name>-<instance>.json in the data directory, the release
it runs from, its process id, how many beats it made and how many notes the database holds (so it
has the app's settings and database). On SIGTERM it finishes its beat, writes that it stopped and
exits 0, as a worker finishes its task. With --once it beats once and exits, as a scheduled job.
The name is the process's or the job's (DJOPS_PROCESS, DJOPS_JOB), as djops runs it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from board.models import Note


class Command(BaseCommand):
    help = "Write a heartbeat file every second until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between beats")
        parser.add_argument("--once", action="store_true", help="beat once, then exit")

    def handle(self, *args, interval: float, once: bool, **options):
        name = os.environ.get("DJOPS_PROCESS") or os.environ.get("DJOPS_JOB") or "heartbeat"
        instance = os.environ.get("DJOPS_PROCESS_INSTANCE", "1")
        path = Path(settings.DATA_DIR) / f"heartbeat-{name}-{instance}.json"
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        started = time.time()
        beats = 0
        while True:
            beats += 1
            self._write(
                path,
                {
                    "release": settings.APP_RELEASE,
                    "pid": os.getpid(),
                    "started": started,
                    "time": time.time(),
                    "beats": beats,
                    "notes": Note.objects.count(),
                    "stopped": stopping,
                },
            )
            if stopping or once:
                self.stdout.write(f"heartbeat {name}-{instance} stopped after {beats} beats")
                return
            time.sleep(interval)

    @staticmethod
    def _write(path: Path, state: dict) -> None:
        new = path.with_name(path.name + ".new")
        new.write_text(json.dumps(state) + "\n")
        new.replace(path)
