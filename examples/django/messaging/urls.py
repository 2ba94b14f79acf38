from django.urls import path

from . import views

urlpatterns = [
    path("lyrebird/events", views.lyrebird_events, name="lyrebird-events"),
    path("", views.index, name="index"),
    path("send", views.send, name="send"),
    path("patients/<str:patient>/", views.patient, name="patient"),
    path("attachments/<int:pk>", views.attachment, name="attachment"),
]
