"""A plain DRF baseline for the benchmark: the five bench requests answered as a typical team
would write them (``ModelViewSet`` + ``ModelSerializer`` + django-filter) on the app's models, with
the app's token authentication and middleware. ``bench.run`` serves it beside the app and the
floor; see docs/benchmark.md for what it does and leaves out."""
