"""The benchmark, end to end: ``make bench`` runs ``python -m bench.run``.

1. Drops and creates the database (``procurement_bench``), migrates it and seeds it at scale
   (``bench/seed.py``), with a user holding every permission and its token.
2. Times ``manage.py recalculate_reorder_points`` over all levels against its demand aggregate
   alone (``procurement.replenishment.demand_rows``, the SQL timed by ``bench/aggregate.py``).
3. Serves the app (``gunicorn -c gunicorn.conf.py``, production settings), the plain DRF
   baseline (``bench/baseline``) and the floor (``bench/floor.py``) under the same gunicorn
   settings side by side and loads each in turn with wrk (``bench/wrk.lua``), same threads,
   connections and duration, scenario by scenario.
4. Measures each scenario's CPU time per request in one process, app, baseline and floor
   (``bench/profile.py --cpu``), then grows the database to 1,000,000 stock levels and measures
   the filtered stock list again.
5. Prints the table and writes ``bench/results/latest.json``.
See docs/benchmark.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from bench import scenarios, seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# The app's rate over the floor's (issue 16).
TARGETS = {"read": 0.5, "write": 0.4}
RECALC_TARGET = 2.0
# The recalculation's own default (``RECALCULATION_WORKERS``), passed explicitly so that the
# table says what it timed.
RECALC_WORKERS = 2
SCALE_TARGET = 0.8
SCALE_LEVELS = 1_000_000
# The servers, their ports and WSGI callables (None: the app's, gunicorn.conf.py's wsgi_app).
SERVERS = {
    "app": (8101, None),
    "baseline": (8103, "bench.baseline.wsgi:application"),
    "floor": (8102, "bench.floor:application"),
}
LABELS = {"app": "app", "baseline": "plain DRF", "floor": "floor"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark the service against its floor and a plain DRF baseline."
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (no database name); default the local one as postgres.",
    )
    parser.add_argument("--database", default="procurement_bench")
    parser.add_argument(
        "--scale", type=int, default=1, help="x 100,000 stock levels (1 to 10); default 1."
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads; default 2.")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections; 16.")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run; default 10.")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up; default 2.")
    parser.add_argument(
        "--rounds", type=int, default=2, help="ABBA rounds that share --duration; default 2."
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.name for s in scenarios.SCENARIOS),
        help="comma-separated subset of: " + ", ".join(s.name for s in scenarios.SCENARIOS),
    )
    parser.add_argument(
        "--receipt-pos",
        type=int,
        default=0,
        help="shipped POs seeded per server for receipts; default 500 per second of run.",
    )
    parser.add_argument("--workers", type=int, help="GUNICORN_WORKERS for the three servers.")
    parser.add_argument("--gunicorn-threads", type=int, help="GUNICORN_THREADS for the three.")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database.")
    parser.add_argument("--no-recalc", action="store_true", help="skip the recalculation.")
    parser.add_argument(
        "--recalc-workers",
        type=int,
        default=RECALC_WORKERS,
        help=f"the recalculation's --workers; default {RECALC_WORKERS}, its own default.",
    )
    parser.add_argument(
        "--no-scale-check", action="store_true", help="skip the run at 1,000,000 levels."
    )
    parser.add_argument(
        "--no-cpu", action="store_true", help="skip the in-process CPU per request figures."
    )
    parser.add_argument("--output", default=str(RESULTS / "latest.json"))
    args = parser.parse_args(argv)
    if not 1 <= args.scale <= 10:
        parser.error("--scale is from 1 to 10 (100,000 to 1,000,000 stock levels)")
    unknown = set(args.scenarios.split(",")) - set(scenarios.BY_NAME)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def log(message):
    print(message, flush=True)


# --- machine ---------------------------------------------------------------------------------


def machine(conninfo):
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    with psycopg.connect(conninfo) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'max_connections', 'synchronous_commit')"
            ).fetchall()
        )
    wrk = _output([shutil.which("wrk"), "-v"]).split("[")[0]
    commit = _output([shutil.which("git") or "git", "rev-parse", "--short", "HEAD"]).strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "wrk": wrk.strip(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit or "unknown (not a git checkout)",
    }


def _output(command):
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT).stdout  # noqa: S603


# --- database ---------------------------------------------------------------------------------


def django_env(database_url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_hex(32),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # No collectstatic: the API serves no static file (procurement_site.staticfiles).
        WHITENOISE_USE_FINDERS="1",
        # wrk writes as fast as it can from one user: the write limit (one upsert per write,
        # accounts.rate_limits) is off, in the app as in the floor.
        API_WRITE_RATE="",
    )
    return env


def prepare_database(args, server_url, database_url, receipt_pos):
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=django_env(database_url),
        check=True,
    )
    log(f"  migrated                  {time.perf_counter() - started:7.1f} s")
    seed.seed(
        database_url,
        stock_levels=100_000 * args.scale,
        receipt_pos=receipt_pos,
        log=log,
    )


# --- recalculation ------------------------------------------------------------------------------


def time_recalculation(database_url, *, workers=RECALC_WORKERS):
    env = django_env(database_url)

    def run(*args):
        return subprocess.run(  # noqa: S603
            [PYTHON, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )

    def aggregate():
        return json.loads(run("-m", "bench.aggregate").stdout.strip().splitlines()[-1])

    first = aggregate()
    started = time.perf_counter()
    command = run("manage.py", "recalculate_reorder_points", "--workers", str(workers))
    command_seconds = time.perf_counter() - started
    second = aggregate()
    aggregate_seconds = min(first["sql_seconds"], second["sql_seconds"])
    ratio = command_seconds / aggregate_seconds
    return {
        "levels": first["rows"],
        "workers": workers,
        "command_seconds": round(command_seconds, 2),
        "aggregate_sql_seconds": round(aggregate_seconds, 2),
        "aggregate_runs": [first, second],
        "command_output": command.stdout.strip().splitlines()[-1:],
        "ratio": round(ratio, 2),
        "target": RECALC_TARGET,
        "met": ratio <= RECALC_TARGET,
    }


# --- servers ----------------------------------------------------------------------------------


class Server:
    def __init__(self, name, port, app, env, logdir):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_CONTROL_SOCKET="")
        command = [GUNICORN, "-c", str(ROOT / "gunicorn.conf.py")] + ([app] if app else [])
        self.log_path = logdir / f"{name}.log"
        self.log_file = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2)  # noqa: S310 (local)
                return
            except urllib.error.HTTPError:
                return  # answering, if only with a 404 (the floor has no /healthz)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on {self.url}; see {self.log_path}")

    def workers(self):
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def peak_worker_memory_mib(self):
        """The largest VmHWM (peak resident set) among the worker processes."""
        peaks = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
        return round(max(peaks) / 1024, 1) if peaks else None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def wrk(args, server, path, mode, token, duration):
    command = [
        shutil.which("wrk"),
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "wrk.lua"),
        server.url,
        "--",
        str(path),
        mode,
        str(args.threads),
        token,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"^BENCH_RESULT (.*)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(match.group(1))


def summarise(runs):
    """One figure from the rounds of one server: throughput over all of them, p50 and p90 the
    request-weighted mean of the rounds', p99 and max the worst round's."""
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["duration_us"] for run in runs) / 1e6

    def weighted(key):
        return sum(run[key] * run["requests"] for run in runs) / max(requests, 1) / 1000

    errors = sum(run["non_2xx"] + run["socket_errors"] + run["timeouts"] for run in runs)
    return {
        "requests": requests,
        "rps": round(requests / seconds, 1),
        "p50_ms": round(weighted("p50_us"), 2),
        "p90_ms": round(weighted("p90_us"), 2),
        "p99_ms": round(max(run["p99_us"] for run in runs) / 1000, 2),
        "max_ms": round(max(run["max_us"] for run in runs) / 1000, 2),
        "errors": errors,
        "first_error": next((run["first_error"] for run in runs if run["first_error"]), ""),
        "exhausted": sum(run["exhausted"] for run in runs),
        "rounds_rps": [round(run["requests"] / run["duration_us"] * 1e6, 1) for run in runs],
    }


def load_all(args, servers, scenario, files, token):
    """Warm each server up, then ``--rounds`` rounds in ABBA order extended to the three (app,
    baseline, floor, then floor, baseline, app, ...), each of ``duration / rounds`` seconds, so
    that a burst of other work on the machine weighs on all alike. A walk has its own file per
    round and server (each line is sent once)."""
    runs = {name: [] for name in SERVERS}
    if args.warmup:
        for name in SERVERS:
            wrk(args, servers[name], files[name]["warm"], scenario.mode, token, args.warmup)
    seconds = max(1, round(args.duration / args.rounds))
    for number in range(args.rounds):
        order = list(SERVERS) if number % 2 == 0 else list(reversed(SERVERS))
        for name in order:
            path = files[name]["rounds"][number]
            runs[name].append(wrk(args, servers[name], path, scenario.mode, token, seconds))
    return {name: summarise(results) for name, results in runs.items()}


def request_files(args, conninfo, workdir, wanted):
    """{scenario: {server: {"warm": file, "rounds": [file per round]}}}"""
    files = {}
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        cursor.execute("SET search_path = procurement, public")
        for name in wanted:
            scenario = scenarios.BY_NAME[name]
            if scenario.mode == "random":
                path = workdir / f"{name}.tsv"
                scenarios.write_requests(path, scenarios.READ_REQUESTS[name](cursor))
                same = {"warm": path, "rounds": [path] * args.rounds}
                files[name] = dict.fromkeys(SERVERS, same)
                continue
            ids = scenarios.receipt_po_ids(cursor)[: -scenarios.RECEIPT_RESERVE]
            share = len(ids) // len(SERVERS)
            files[name] = {}
            for index, server in enumerate(SERVERS):
                mine = ids[index * share : (index + 1) * share]
                # Slices in proportion to the seconds each run takes.
                parts = [args.warmup] + [args.duration / args.rounds] * args.rounds
                bounds = [0]
                for part in parts:
                    bounds.append(bounds[-1] + int(len(mine) * part / sum(parts)))
                paths = []
                for number in range(len(parts)):
                    path = workdir / f"{name}-{server}-{number}.tsv"
                    chunk = mine[bounds[number] : bounds[number + 1]]
                    scenarios.write_requests(path, scenarios.receipt_requests(chunk))
                    paths.append(path)
                files[name][server] = {"warm": paths[0], "rounds": paths[1:]}
    return files


def cpu_per_request(database_url, name):
    """The app's, the baseline's and the floor's CPU time per request in one process
    (bench/profile.py --cpu): the Python side of each, which other work on the machine disturbs
    less than throughput."""
    env = dict(django_env(database_url), LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"))
    count = "100" if name == "po_receipt" else "300"  # receipts: 3 x 100 of RECEIPT_RESERVE
    out = _output_env([PYTHON, "-m", "bench.profile", name, "--cpu", "--json", "-n", count], env)
    return json.loads(out.strip().splitlines()[-1])


def _output_env(command, env):
    return subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, cwd=ROOT, env=env, check=True
    ).stdout


def ratio_to_floor(measured, name):
    floor = measured["floor"]["rps"]
    return round(measured[name]["rps"] / floor, 3) if floor else 0.0


def compare(measured, target):
    """The app's and the baseline's rates over the floor's; met: the app's at the target, with
    no error from the app or the floor (the baseline's are in the table's errors column)."""
    ratio = ratio_to_floor(measured, "app")
    clean = measured["app"]["errors"] == 0 and measured["floor"]["errors"] == 0
    return ratio, ratio_to_floor(measured, "baseline"), bool(ratio >= target and clean)


# --- report -----------------------------------------------------------------------------------


def table(results):
    """Per scenario: the floor's, the plain DRF baseline's and the app's rates, the two ratios to
    the floor, p50 and p99 of each, errors, and CPU per request in process."""
    order = ("floor", "baseline", "app")
    rows = [
        (
            "scenario",
            "floor req/s",
            "DRF req/s",
            "app req/s",
            "app/floor",
            "DRF/floor",
            "target",
            "met",
            "p50 ms f/DRF/app",
            "p99 ms f/DRF/app",
            "errors",
            "CPU ms f/DRF/app",
        )
    ]
    for item in results["scenarios"]:
        cpu = item.get("cpu")
        rows.append(
            (
                item["label"],
                *(f"{item[name]['rps']:.0f}" for name in order),
                f"{item['ratio']:.2f}",
                f"{item['baseline_ratio']:.2f}",
                f">= {item['target']}",
                "yes" if item["met"] else "NO",
                "/".join(f"{item[name]['p50_ms']:.1f}" for name in order),
                "/".join(f"{item[name]['p99_ms']:.1f}" for name in order),
                "/".join(str(item[name]["errors"]) for name in order),
                "/".join(f"{cpu[f'{name}_cpu_ms']:.2f}" for name in order) if cpu else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    recalc = results.get("recalculation")
    if recalc:
        lines.append(
            f"recalculate_reorder_points over {recalc['levels']:,} levels "
            f"({recalc['workers']} workers): "
            f"{recalc['command_seconds']:.1f} s; its demand aggregate alone: "
            f"{recalc['aggregate_sql_seconds']:.1f} s; ratio {recalc['ratio']:.2f} "
            f"(target <= {recalc['target']}): {'yes' if recalc['met'] else 'NO'}"
        )
    scale = results.get("scale")
    if scale:
        lines.append(
            f"filtered stock list at {scale['levels']:,} levels: {scale['app']['rps']:.0f} req/s "
            f"(p50 {scale['app']['p50_ms']:.1f} ms, p99 {scale['app']['p99_ms']:.1f} ms; floor "
            f"{scale['floor']['rps']:.0f} req/s, plain DRF {scale['baseline']['rps']:.0f} req/s) "
            f"vs {scale['base_rps']:.0f} req/s at "
            f"{scale['base_levels']:,}: ratio {scale['ratio']:.2f} (target >= "
            f"{scale['target']}): {'yes' if scale['met'] else 'NO'}; the floor's own ratio "
            f"{scale['floor_ratio']:.2f} (the app's relative to it: "
            f"{scale['ratio'] / scale['floor_ratio']:.2f}, which discounts a change of load on "
            "the machine between the two runs)"
        )
    memory = results.get("peak_worker_memory_mib", {})
    if memory:
        lines.append(
            "peak worker memory (VmHWM): "
            + ", ".join(f"{LABELS[name]} {memory.get(name)} MiB" for name in SERVERS)
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench does it when it can).")
    server_url = args.server_url.rstrip("/")
    database_url = f"{server_url}/{args.database}"
    wanted = args.scenarios.split(",")
    receipt_pos = (args.receipt_pos or 500 * (args.duration + args.warmup)) * len(
        SERVERS
    ) + scenarios.RECEIPT_RESERVE
    results = {
        "machine": machine(f"{server_url}/postgres"),
        "settings": {
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
            "rounds": args.rounds,
            "warmup_seconds": args.warmup,
            "scale": args.scale,
            "stock_levels": 100_000 * args.scale,
            "gunicorn_workers": args.workers or os.environ.get("GUNICORN_WORKERS") or "default",
            "gunicorn_threads": args.gunicorn_threads or os.environ.get("GUNICORN_THREADS") or 1,
        },
        "scenarios": [],
    }
    if not args.skip_seed:
        log(f"Seeding {args.database} ({100_000 * args.scale:,} stock levels)")
        prepare_database(args, server_url, database_url, receipt_pos)
    token = seed.create_bench_user(database_url)

    if not args.no_recalc:
        log("Timing recalculate_reorder_points against its demand aggregate")
        results["recalculation"] = time_recalculation(database_url, workers=args.recalc_workers)
        log(
            f"  command {results['recalculation']['command_seconds']} s, aggregate "
            f"{results['recalculation']['aggregate_sql_seconds']} s"
        )

    env = django_env(database_url)
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.gunicorn_threads:
        env["GUNICORN_THREADS"] = str(args.gunicorn_threads)
    env.setdefault("LOG_LEVEL", "INFO")
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    files = request_files(args, database_url, workdir, wanted)
    servers = {}
    try:
        for server_name, (port, app) in SERVERS.items():
            servers[server_name] = Server(server_name, port, app, env, RESULTS)
        for name in wanted:
            scenario = scenarios.BY_NAME[name]
            log(f"Loading app, plain DRF and floor: {scenario.label}")
            measured = load_all(args, servers, scenario, files[name], token)
            for server_name, figures in measured.items():
                log(
                    f"  {LABELS[server_name]:<9} {figures['rps']:8.1f} req/s  "
                    f"p50 {figures['p50_ms']} ms  "
                    f"p99 {figures['p99_ms']} ms  errors {figures['errors']}"
                    + (f" ({figures['first_error'][:200]})" if figures["errors"] else "")
                )
            target = TARGETS[scenario.kind]
            ratio, baseline_ratio, met = compare(measured, target)
            results["scenarios"].append(
                {
                    "name": name,
                    "label": scenario.label,
                    "kind": scenario.kind,
                    **measured,
                    "ratio": ratio,
                    "baseline_ratio": baseline_ratio,
                    "target": target,
                    "met": met,
                }
            )
        if not args.no_cpu:
            log("CPU per request in process, app, plain DRF and floor (bench.profile --cpu)")
            for item in results["scenarios"]:
                item["cpu"] = cpu_per_request(database_url, item["name"])
                log(
                    f"  {item['name']:<17} app {item['cpu']['app_cpu_ms']:6.2f} ms, plain DRF "
                    f"{item['cpu']['baseline_cpu_ms']:6.2f} ms, floor "
                    f"{item['cpu']['floor_cpu_ms']:6.2f} ms"
                )
        base = next((s for s in results["scenarios"] if s["name"] == "stock_levels"), None)
        if base and not args.no_scale_check and args.scale < 10:
            log(f"Growing to {SCALE_LEVELS:,} stock levels")
            levels = seed.grow_stock_levels(database_url, stock_levels=SCALE_LEVELS, log=log)
            scenario = scenarios.BY_NAME["stock_levels"]
            log(f"Loading app, plain DRF and floor: {scenario.label} at {levels:,} levels")
            scaled = load_all(args, servers, scenario, files["stock_levels"], token)
            log(
                f"  app {scaled['app']['rps']:8.1f} req/s, plain DRF "
                f"{scaled['baseline']['rps']:8.1f}, floor {scaled['floor']['rps']:8.1f}"
            )
            ratio = scaled["app"]["rps"] / base["app"]["rps"]
            results["scale"] = {
                "levels": levels,
                "base_levels": 100_000 * args.scale,
                "base_rps": base["app"]["rps"],
                **scaled,
                "ratio": round(ratio, 3),
                "floor_ratio": round(scaled["floor"]["rps"] / base["floor"]["rps"], 3),
                "target": SCALE_TARGET,
                "met": ratio >= SCALE_TARGET and scaled["app"]["errors"] == 0,
            }
        results["peak_worker_memory_mib"] = {
            name: server.peak_worker_memory_mib() for name, server in servers.items()
        }
        results["workers"] = {name: len(server.workers()) for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    log("")
    log(
        f"{results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['ram_gib']} GiB, PostgreSQL {results['machine']['postgresql']}, "
        f"{results['machine']['date']}; wrk {results['settings']['wrk']}, "
        f"{results['workers']['app']} gunicorn workers"
    )
    log(table(results))
    log(f"Written to {output}")


if __name__ == "__main__":
    main()
