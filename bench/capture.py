"""Print the SQL the app runs for each benchmark scenario, to keep bench/floor.py a mirror.

    DATABASE_URL=postgres://.../procurement_bench python -m bench.capture TOKEN

Runs one request per scenario through Django's test client (writes are real: use the bench
database) and prints every statement with its parameters, in order.
"""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.scenarios import sample_requests

    token = sys.argv[1]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")
    for name, method, path, body in sample_requests(connection):
        with CaptureQueriesContext(connection) as queries:
            if method == "GET":
                response = client.get(path)
            else:
                response = client.generic(method, path, body, content_type="application/json")
        print(f"=== {name}: {method} {path} {body or ''} -> {response.status_code}")
        for query in queries.captured_queries:
            print(query["sql"])
            print()


if __name__ == "__main__":
    main()
