import json
import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from . import lyrebird
from .events import record
from .models import Attachment, Reply, SentMessage
from .sending import send_to_patient
from .webhooks import InvalidSignature, verify

log = logging.getLogger(__name__)


# -- the webhook receiver --------------------------------------------------

@csrf_exempt  # lyrebird signs its requests instead
@require_POST
def lyrebird_events(request):
    """POST /lyrebird/events: verify, store once, answer. Nothing slow
    happens here (images are fetched when first shown), so lyrebird gets its
    2xx at once; an error answer or none makes it try again later."""
    if not settings.LYREBIRD_WEBHOOK_SECRET:
        log.error("LYREBIRD_WEBHOOK_SECRET is not set; refusing every event")
        return JsonResponse({"error": "not configured"}, status=503)
    try:
        webhook_id = verify(settings.LYREBIRD_WEBHOOK_SECRET, request.headers,
                            request.body)
    except InvalidSignature as e:
        log.warning("refused a delivery: %s", e)
        return JsonResponse({"error": str(e)}, status=401)
    try:
        envelope = json.loads(request.body)
        if not isinstance(envelope, dict):
            raise ValueError("not an object")
    except ValueError as e:
        return JsonResponse({"error": "body: %s" % e}, status=400)
    with transaction.atomic():
        event, created = record(envelope, webhook_id)
    return JsonResponse({"id": event.webhook_id, "duplicate": not created})


# -- pages -----------------------------------------------------------------

class SendForm(forms.Form):
    to = forms.CharField(label="Patient's mobile", max_length=32)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                           max_length=1600)
    image = forms.FileField(required=False)

    def clean(self):
        data = super().clean()
        if not data.get("text") and not data.get("image"):
            raise forms.ValidationError("Write a message or attach an image.")
        return data


def patients():
    numbers = set(Reply.objects.values_list("patient", flat=True))
    numbers |= set(SentMessage.objects.values_list("patient", flat=True))
    return sorted(numbers)


@require_GET
def index(request):
    return render(request, "messaging/index.html",
                  {"patients": patients(), "form": SendForm()})


@require_POST
def send(request):
    form = SendForm(request.POST, request.FILES)
    if form.is_valid():
        image = form.cleaned_data["image"]
        files = [(image.read(), image.content_type)] if image else []
        try:
            sent = send_to_patient(form.cleaned_data["to"], form.cleaned_data["text"],
                                   files, metadata={"sent_from": "django-example"})
            return redirect("patient", patient=sent.patient)
        except lyrebird.LyrebirdError as e:
            form.add_error(None, "lyrebird refused it: %s" % e.message
                           if e.status else "lyrebird did not answer: %s" % e.message)
    return render(request, "messaging/index.html",
                  {"patients": patients(), "form": form}, status=400)


@require_GET
def patient(request, patient):
    items = [("in", r.created_at, r) for r in
             Reply.objects.filter(patient=patient).prefetch_related("attachments")]
    items += [("out", s.created_at, s) for s in SentMessage.objects.filter(patient=patient)]
    items.sort(key=lambda i: i[1])
    return render(request, "messaging/patient.html", {
        "patient": patient, "items": items,
        "form": SendForm(initial={"to": patient})})


@require_GET
def attachment(request, pk):
    """A reply's image, fetched from lyrebird the first time and kept."""
    att = get_object_or_404(Attachment, pk=pk)
    if att.data is None:
        fresh = (att.download_expires_at
                 and att.download_expires_at > timezone.now() + timedelta(seconds=10))
        try:
            if fresh and att.download_url.startswith(settings.LYREBIRD_URL + "/"):
                _, data = lyrebird.download(att.download_url)  # signed, no key
            else:  # expired: the API, with the key (scope media:read)
                _, data = lyrebird.download("/api/v1/media/" + att.media_id, key=True)
        except lyrebird.LyrebirdError as e:
            log.warning("cannot fetch %s: %s", att.media_id, e)
            return HttpResponse("cannot fetch the image from lyrebird: %s" % e.message,
                                status=502, content_type="text/plain")
        att.data = data
        att.save(update_fields=["data"])
    response = HttpResponse(bytes(att.data), content_type=att.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
