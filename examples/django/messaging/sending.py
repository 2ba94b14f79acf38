"""Sending a patient a message with images, the way this app does it."""
import uuid

from . import lyrebird
from .events import save_sent
from .models import SentMessage


def send_to_patient(to, text="", files=(), metadata=None):
    """files: (bytes, content type) pairs. Uploads each (scope media:write),
    then sends one message referring to them (scope messages:send). Returns
    the SentMessage; raises lyrebird.LyrebirdError when lyrebird refuses
    (the row is kept, "refused") or cannot be reached ("unknown": it may
    have the message; sending again with the same client_reference, which
    is also the Idempotency-Key, would not text the patient twice)."""
    sent = SentMessage.objects.create(client_reference="app-" + uuid.uuid4().hex,
                                      patient=to, text=text, media_count=len(files))
    try:
        media = [lyrebird.upload_media(data, ct)["id"] for data, ct in files]
        message = lyrebird.send_message(to, text, media, metadata,
                                        client_reference=sent.client_reference)
    except lyrebird.LyrebirdError as e:
        SentMessage.objects.filter(pk=sent.pk, status="new").update(
            status="refused" if e.status else "unknown", error=str(e))
        raise
    return save_sent(message)
