"""What this app does with each event lyrebird delivers. Every message event
carries the whole message object (the API's), so each handler just brings
its row up to date; applying one twice changes nothing."""
import logging

from django.utils.dateparse import parse_datetime

from .models import Attachment, Event, Reply, SentMessage

log = logging.getLogger(__name__)


def record(envelope, webhook_id):
    """Stores one delivery, once. Returns (event, created); call it inside a
    transaction, so that a failure stores nothing and lyrebird retries."""
    event, created = Event.objects.get_or_create(
        webhook_id=webhook_id,
        defaults={"type": str(envelope.get("type", "")), "payload": envelope})
    if created:
        handler = HANDLERS.get(event.type)
        data = envelope.get("data")
        if handler and isinstance(data, dict) and isinstance(data.get("message"), dict):
            handler(event, data["message"])
    return event, created


def save_reply(event, m):
    if m.get("direction") != "inbound":
        return
    reply, _ = Reply.objects.get_or_create(
        lyrebird_id=m["id"],
        defaults={"patient": m["from"], "text": m.get("text") or "",
                  "created_at": parse_datetime(m["created_at"]), "event": event})
    # A provider that sends media as links has lyrebird fetch them later:
    # they come in a message.updated event, so add whatever is new.
    for item in m.get("media") or []:
        if "download_url" not in item:
            continue  # still being fetched by lyrebird
        Attachment.objects.update_or_create(
            reply=reply, media_id=item["id"],
            defaults={"content_type": item["content_type"], "size": item["bytes"],
                      "download_url": item["download_url"],
                      "download_expires_at": parse_datetime(item["download_expires_at"])})
    log.info("reply %s from %s (%d media)", reply.lyrebird_id, reply.patient,
             len(m.get("media") or []))


def save_status(event, m):
    if m.get("direction") != "outbound":
        return
    save_sent(m)


def save_sent(m):
    """Brings the SentMessage of lyrebird's message m up to date, unless it
    already holds a later state (a replayed event is an old one). One
    UPDATE, so a send returning and its events arriving at once cannot undo
    each other."""
    ref = m.get("client_reference")
    key = {"client_reference": ref} if ref else {"lyrebird_id": m["id"]}
    SentMessage.objects.get_or_create(**key, defaults={"patient": m["to"]})
    error = m.get("error")
    SentMessage.objects.filter(status_at__lte=m["updated_at"], **key).update(
        lyrebird_id=m["id"], patient=m["to"], text=m.get("text") or "",
        media_count=len(m.get("media") or []), status=m["status"],
        error=error.get("message", "") if isinstance(error, dict) else "",
        status_at=m["updated_at"])
    return SentMessage.objects.get(**key)


def save_update(event, m):
    """message.updated: a message changed other than by its status (media
    that arrived later, a link revoked)."""
    (save_reply if m.get("direction") == "inbound" else save_status)(event, m)


HANDLERS = {
    "message.received": save_reply,
    "message.status": save_status,
    "message.updated": save_update,
}
