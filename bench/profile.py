"""Profile the app on the benchmark's requests, in process, with pyinstrument.

    DATABASE_URL=postgres://.../procurement_bench python -m bench.profile stock_levels [-n 300]
    DATABASE_URL=... python -m bench.profile stock_levels --cpu

Sends ``-n`` requests of the scenario through Django's full stack (middleware, DRF, serializers,
the ORM) with the test client, and prints where the time went. ``--cpu`` instead sends them to
the app, to the plain DRF baseline (``bench/baseline``, mounted in this process) and to the floor
in turn, unprofiled, and prints each one's CPU time per request in this process (the Python side;
the database's work is about the same for all three): a measure that, unlike throughput, hardly
moves when other work shares the machine. ``--baseline`` profiles the baseline instead of the
app. Writes are real: use the bench database, after ``make bench`` (or ``python -m bench.run``)
seeded it.
"""

import argparse
import contextlib
import json
import os
import random
import time

BASELINE_URLS = "bench.baseline.urls"


def main():
    from bench import scenarios

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=[s.name for s in scenarios.SCENARIOS])
    parser.add_argument("-n", type=int, default=300, help="requests; default 300")
    parser.add_argument("--show-all", action="store_true", help="do not hide library frames")
    parser.add_argument("--flat", action="store_true", help="also the functions by own time")
    parser.add_argument("--cpu", action="store_true", help="CPU ms per request, all three")
    parser.add_argument("--baseline", action="store_true", help="profile the plain DRF baseline")
    parser.add_argument("--json", action="store_true", help="with --cpu: one JSON line")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement_site.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from pyinstrument import Profiler

    from bench.seed import create_bench_user

    params = connection.get_connection_params()
    conninfo = " ".join(
        f"{key}={params[key]}" for key in ("dbname", "user", "host", "port") if params.get(key)
    )
    token = create_bench_user(conninfo)
    with connection.cursor() as cursor:
        if args.scenario == "po_receipt":
            # The reserve that bench.run leaves out of its load runs: a third each.
            ids = scenarios.receipt_po_ids(cursor)[-scenarios.RECEIPT_RESERVE :][: 3 * args.n]
            requests = scenarios.receipt_requests(ids)
        else:
            pool = scenarios.READ_REQUESTS[args.scenario](cursor)
            requests = [random.choice(pool) for _ in range(args.n)]  # noqa: S311
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")

    def send(method, path, body):
        if method == "GET":
            return client.get(path)
        return client.generic(method, path, body, content_type="application/json")

    baseline = override_settings(ROOT_URLCONF=BASELINE_URLS)
    if args.cpu:
        from bench import floor

        floor.use_pool(floor.make_pool(conninfo))
        third = len(requests) // 3
        app_requests, baseline_requests, floor_requests = (
            requests[:third],
            requests[third : 2 * third],
            requests[2 * third :],
        )
        if args.scenario != "po_receipt":
            app_requests = baseline_requests = floor_requests = requests
        figures = {"app": _cpu_per_request(send, app_requests)}
        with baseline:
            figures["baseline"] = _cpu_per_request(send, baseline_requests)
        figures["floor"] = _cpu_per_request(_floor_sender(floor, token), floor_requests)
        if args.json:
            print(
                json.dumps(
                    {
                        f"{name}_{kind}_ms": round(pair[index], 3)
                        for name, pair in figures.items()
                        for index, kind in enumerate(("cpu", "wall"))
                    }
                )
            )
            return
        print(f"{args.scenario}: CPU ms per request in process (wall ms): ")
        for name, (cpu, wall) in figures.items():
            print(f"  {name:<8} {cpu:6.2f} ({wall:6.2f})")
        floor_cpu = figures["floor"][0]
        print(
            f"  app/floor CPU {figures['app'][0] / floor_cpu:.1f}x, DRF/floor CPU "
            f"{figures['baseline'][0] / floor_cpu:.1f}x"
        )
        return

    with baseline if args.baseline else contextlib.nullcontext():
        send(*requests[0])  # imports and first-connection costs out of the profile
        profiler = Profiler(interval=0.0005)
        with profiler:
            for request in requests[1:]:
                response = send(*request)
                assert response.status_code < 300, response.content[:300]
    print(profiler.output_text(unicode=True, color=False, show_all=args.show_all))
    if args.flat:
        print(profiler.output_text(unicode=True, color=False, flat=True, show_all=True)[:6000])


def _cpu_per_request(send, requests):
    """(CPU ms, wall ms) per request, after a warm-up of a tenth of them."""
    warm = max(1, len(requests) // 10)
    for request in requests[:warm]:
        send(*request)
    cpu, wall = time.process_time(), time.perf_counter()
    for request in requests[warm:]:
        send(*request)
    count = len(requests) - warm
    return (
        (time.process_time() - cpu) * 1000 / count,
        (time.perf_counter() - wall) * 1000 / count,
    )


def _floor_sender(floor, token):
    from bench import scenarios

    def send(method, path, body):
        environ = scenarios.wsgi_environ(method, path, body, token=token)
        floor.application(environ, lambda status, headers: None)

    return send


if __name__ == "__main__":
    main()
