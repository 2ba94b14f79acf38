"""Settings for the example clinic app that talks to lyrebird.

Everything that differs between machines comes from the environment:

  LYREBIRD_URL             where lyrebird is (default http://127.0.0.1:8080)
  LYREBIRD_APP_KEY         a scoped API key, lb_... (lyrebird key create)
  LYREBIRD_WEBHOOK_SECRET  the endpoint's signing secret, whsec_...
                           (lyrebird webhook add)
  DJANGO_DB                the SQLite file (default db.sqlite3 here)
  DJANGO_SECRET_KEY        Django's own secret (a fixed one is used in DEBUG)
  DJANGO_DEBUG             1 (default) or 0
  DJANGO_ALLOWED_HOSTS     comma-separated (default 127.0.0.1,localhost)

The key is deliberately not LYREBIRD_API_KEY: lyrebird itself reads that
variable as its [api] key, so a shell that runs both would mix them up.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# -- lyrebird -------------------------------------------------------------
LYREBIRD_URL = os.environ.get("LYREBIRD_URL", "http://127.0.0.1:8080").rstrip("/")
LYREBIRD_APP_KEY = os.environ.get("LYREBIRD_APP_KEY", "")
LYREBIRD_WEBHOOK_SECRET = os.environ.get("LYREBIRD_WEBHOOK_SECRET", "")
LYREBIRD_TIMEOUT = 30  # seconds for one call to lyrebird's API

# -- Django ---------------------------------------------------------------
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("set DJANGO_SECRET_KEY when DJANGO_DEBUG=0")
    SECRET_KEY = "insecure-example-key-for-local-development-only"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = ["messaging"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
}]

DATABASES = {
    "default": {
        "ENGINE": "clinic.sqlite",  # Django's, with BEGIN IMMEDIATE (see there)
        "NAME": os.environ.get("DJANGO_DB", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploaded images are kept in memory up to lyrebird's own limit (10 MiB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

USE_TZ = True
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Australia/Sydney")
LANGUAGE_CODE = "en-au"
USE_I18N = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"messaging": {"handlers": ["console"], "level": "INFO"}},
}
