from django.db import models


class Event(models.Model):
    """One event lyrebird delivered, stored once: lyrebird sends an event
    again when it got no 2xx (or when someone replays it), always with the
    same webhook-id, so the unique constraint is what makes a redelivery
    harmless."""
    webhook_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    payload = models.JSONField()  # the envelope: {"type", "timestamp", "data"}
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return "%s %s" % (self.webhook_id, self.type)


class Reply(models.Model):
    """A message a patient sent the clinic (a message.received event)."""
    lyrebird_id = models.CharField(max_length=32, unique=True)
    patient = models.CharField(max_length=20, db_index=True)  # E.164
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()  # when lyrebird received it
    event = models.ForeignKey(Event, on_delete=models.PROTECT)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "replies"

    def __str__(self):
        return "%s from %s" % (self.lyrebird_id, self.patient)


class Attachment(models.Model):
    """An image (or PDF) that came with a reply. `data` is filled the first
    time the page shows it: from `download_url` while that is valid (no key
    needed), else from the API with the key (scope media:read)."""
    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="attachments")
    media_id = models.CharField(max_length=32)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    download_url = models.URLField(max_length=500, blank=True)
    download_expires_at = models.DateTimeField(null=True, blank=True)
    data = models.BinaryField(null=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["reply", "media_id"], name="one_row_per_item"),
        ]

    def __str__(self):
        return "%s (%s)" % (self.media_id, self.content_type)

    @property
    def is_image(self):
        return self.content_type.startswith("image/")


class SentMessage(models.Model):
    """A message to a patient. One this app sends gets its row before the
    send, with its own client_reference, so that the message.status events
    (which carry it) always find it, even one that arrives before the send
    returns. One that staff sent from lyrebird's inbox has no reference and
    is known by its lyrebird id."""
    client_reference = models.CharField(max_length=128, unique=True, null=True, blank=True)
    lyrebird_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    patient = models.CharField(max_length=20, db_index=True)
    text = models.TextField(blank=True)
    media_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, default="new")
    error = models.TextField(blank=True)
    # lyrebird's updated_at of the status held: an older event never wins.
    status_at = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return "%s to %s (%s)" % (self.client_reference, self.patient, self.status)
