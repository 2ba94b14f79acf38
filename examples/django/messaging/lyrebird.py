"""lyrebird's HTTP API, as much as this app uses, with the standard library
only. Every call but download() sends the scoped key from
settings.LYREBIRD_APP_KEY."""
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class LyrebirdError(Exception):
    """lyrebird refused (status and its stable error code), or could not be
    reached (status 0)."""

    def __init__(self, status, code, message):
        super().__init__("%s %s: %s" % (status or "no answer", code, message))
        self.status, self.code, self.message = status, code, message


def _call(method, url, body=None, headers=None, key=True):
    headers = dict(headers or {})
    if key:
        if not settings.LYREBIRD_APP_KEY:
            raise ImproperlyConfigured("set LYREBIRD_APP_KEY to a key from "
                                       "'lyrebird key create'")
        headers["Authorization"] = "Bearer " + settings.LYREBIRD_APP_KEY
    if not url.startswith(("http://", "https://")):
        url = settings.LYREBIRD_URL + url
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=settings.LYREBIRD_TIMEOUT) as r:
            return r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            err = json.loads(text)["error"]
            code, message = err["code"], err["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "http_%d" % e.code, text[:200].decode("utf-8", "replace")
        raise LyrebirdError(e.code, code, message) from None
    except (urllib.error.URLError, OSError) as e:
        raise LyrebirdError(0, "unreachable", "%s: %s" % (url, e)) from None


def _json(method, path, payload, headers=None):
    headers = dict(headers or {}, **{"Content-Type": "application/json"})
    _, body = _call(method, path, json.dumps(payload).encode(), headers)
    return json.loads(body)


def upload_media(data, content_type="application/octet-stream"):
    """POST /api/v1/media (scope media:write): the media object, whose "id"
    a message refers to. lyrebird finds the type from the bytes and strips
    GPS and camera details from images before it stores them."""
    _, body = _call("POST", "/api/v1/media", data, {"Content-Type": content_type})
    return json.loads(body)


def send_message(to, text="", media=(), metadata=None, client_reference=None):
    """POST /api/v1/messages (scope messages:send): the queued message.
    client_reference doubles as the Idempotency-Key, so a send retried after
    a timeout never texts the patient twice."""
    payload = {"to": to}
    if text:
        payload["text"] = text
    if media:
        payload["media"] = list(media)
    if metadata:
        payload["metadata"] = metadata
    headers = {}
    if client_reference:
        payload["client_reference"] = client_reference
        headers["Idempotency-Key"] = client_reference
    return _json("POST", "/api/v1/messages", payload, headers)


def download(url, key=False):
    """(content type, bytes) of a media URL: a download_url from an event
    needs no key; /api/v1/media/{id} needs one with media:read."""
    return _call("GET", url, key=key)
