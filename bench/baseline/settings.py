"""The app's settings, with the baseline's URLs (``gunicorn -c gunicorn.conf.py
bench.baseline.wsgi:application``): same database, middleware, authentication backends and
logging as the app. The DRF classes are on the baseline's views (``bench.baseline.views``)."""

from procurement_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline.urls"
