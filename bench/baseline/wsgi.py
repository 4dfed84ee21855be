import os

from django.core.wsgi import get_wsgi_application

# Not setdefault: the bench's environment may name the app's settings.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline.settings"

application = get_wsgi_application()
