import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement_site.settings")

application = get_wsgi_application()

# Fail at start-up, with what to do, rather than with a 500 on every admin page.
from procurement_site.staticfiles import verify_static_manifest  # noqa: E402

verify_static_manifest()
