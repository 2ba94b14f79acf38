"""Standard Webhooks v1 verification, written from the spec
(https://www.standardwebhooks.com/): no library needed."""
import base64
import hashlib
import hmac
import time

TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(Exception):
    pass


def verify(secret, headers, body, now=None):
    """Checks one delivery and returns its webhook-id, or raises
    InvalidSignature. `secret` is the endpoint's whsec_... secret, `headers`
    any case-insensitive mapping (Django's request.headers), `body` the raw
    bytes exactly as received: verify before parsing."""
    raw = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    if not raw:
        raise ValueError("no webhook secret: set LYREBIRD_WEBHOOK_SECRET")
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (msg_id and signatures and timestamp.isascii() and timestamp.isdigit()):
        raise InvalidSignature("missing or malformed webhook-* headers")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("webhook-timestamp is more than 5 minutes off")
    key = base64.b64decode(raw + "=" * (-len(raw) % 4))
    signed = b".".join([msg_id.encode(), timestamp.encode(), body])
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    # Space-separated "v1,<base64>" entries: during a secret rotation
    # lyrebird signs with the new and the old secret. Any one may match.
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return msg_id
    raise InvalidSignature("no webhook-signature matches")
