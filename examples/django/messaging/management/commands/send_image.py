"""manage.py send_image --to NUMBER [--text TEXT] IMAGE...

Sends a patient a message with one or more images through lyrebird."""
import mimetypes

from django.core.management.base import BaseCommand, CommandError

from messaging.lyrebird import LyrebirdError
from messaging.sending import send_to_patient


class Command(BaseCommand):
    help = "Send a patient a message with images through lyrebird."

    def add_arguments(self, parser):
        parser.add_argument("images", nargs="+", metavar="IMAGE",
                            help="JPEG, PNG, GIF, WebP, HEIC or PDF files")
        parser.add_argument("--to", required=True,
                            help="the patient's mobile, e.g. +61491570156 or 0491 570 156")
        parser.add_argument("--text", default="")
        parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                            help="metadata lyrebird keeps with the message (repeatable)")

    def handle(self, *args, **o):
        files = []
        for path in o["images"]:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise CommandError("cannot read %s: %s" % (path, e.strerror))
            files.append((data, mimetypes.guess_type(path)[0] or "application/octet-stream"))
        metadata = {}
        for kv in o["meta"]:
            key, eq, value = kv.partition("=")
            if not eq or not key:
                raise CommandError("--meta takes KEY=VALUE, not %r" % kv)
            metadata[key] = value
        try:
            sent = send_to_patient(o["to"], o["text"], files, metadata or None)
        except LyrebirdError as e:
            raise CommandError(str(e))
        self.stdout.write("%s %s to %s (%s)" % (sent.lyrebird_id, sent.status,
                                                sent.patient, sent.client_reference))
