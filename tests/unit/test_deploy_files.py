"""The deployment examples (``deploy/``, ``Dockerfile``) start what the app really has.

Every periodic job is scheduled by cron, by a systemd timer and by a Kubernetes
CronJob, at the same times; every ``flask --app app ...`` and gunicorn command line
in them parses with the app's own commands and gunicorn's own options; the web
probes hit the health endpoints; the compose file runs web, worker, migrate,
PostgreSQL and OpenSearch and holds no secret.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
import yaml
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app import create_app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"
CRON = DEPLOY / "cron"

# The periodic jobs (issue 12) and the command each runs.
PERIODIC_JOBS = {
    "prune": ["listings", "prune"],
    "trials": ["installs", "trials"],
    "cancel-ended": ["billing", "cancel-ended"],
    "search-sync": ["search", "sync"],
    "statements": ["billing", "statements"],
    "review-digest": ["listings", "review-digest"],
}
WORKER = ["worker"]
MIGRATE = ["db", "upgrade"]

# The statements job names the month that just ended with GNU date (in the image and
# on Debian hosts): the first day of this month minus one day. Each scheduler needs
# its own escaping of it: cron turns a bare % into a new line, systemd reads % and $
# as its own specifiers and variables, Kubernetes reads $(NAME) as a variable.
LAST_MONTH = '"$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)"'
LAST_MONTH_ESCAPED = {
    "plain": LAST_MONTH,
    "cron": LAST_MONTH.replace("%", "\\%"),
    "systemd": LAST_MONTH.replace("%", "%%").replace("$", "$$"),
    "kubernetes": LAST_MONTH.replace("$", "$$"),
}
SAMPLE_MONTH = "2026-11"

# The ranges of the five cron fields (minute, hour, day of month, month, weekday).
CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]
SHELL_OPERATORS = {"|", "||", "&&", ";"}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _exec_start(service: Path) -> str:
    # A trailing backslash continues a systemd line; configparser keeps it.
    return re.sub(r"\\\n\s*", " ", _unit(service)["Service"]["ExecStart"])


def _kubernetes_documents() -> list[tuple[Path, dict]]:
    """Every manifest under deploy/kubernetes, the Secret example included."""
    documents = []
    for path in sorted(KUBERNETES.iterdir()):
        documents += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def _kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in _kubernetes_documents()
            if doc["kind"] == kind}


def _pod_spec(document: dict) -> dict:
    spec = document["spec"]
    if document["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continued lines joined."""
    lines = [line for line in DOCKERFILE.read_text().splitlines()
             if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in joined.splitlines() if line.strip()]


def _cron_entries(path: Path) -> list[tuple[list[str], str, str]]:
    """The job lines of a cron.d file: (five schedule fields, user, command)."""
    entries = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 6)
        entries.append((fields[:5], fields[5], fields[6]))
    return entries


def _month_substituted(text: str) -> str:
    for escaped in LAST_MONTH_ESCAPED.values():
        text = text.replace(escaped, SAMPLE_MONTH)
    return text


def _flask_args(words: list[str]) -> list[str]:
    """What follows ``flask --app app`` in an argv or split shell line, up to the
    first shell operator or redirection."""
    for index, word in enumerate(words):
        if word == "flask" or word.endswith("/flask"):
            rest = words[index + 1:]
            assert rest[:2] == ["--app", "app"], f"the command must name the app: {words}"
            args = []
            for word in rest[2:]:
                if word in SHELL_OPERATORS or re.match(r"^\d?>", word):
                    break
                args.append(word)
            return args
    raise AssertionError(f"no flask command in {words}")


def _argv(words: list[str]) -> list[str]:
    """An argv as given, or the words of the script it hands to ``sh -c``."""
    if len(words) >= 3 and words[0].endswith("sh") and words[1] == "-c":
        return shlex.split(_month_substituted(words[2]))
    return words


@pytest.fixture(scope="module")
def cli_app(tmp_path_factory):
    """The real app, for its command objects (no database is touched)."""
    folder = tmp_path_factory.mktemp("deploy")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'bazaar.db'}",
                      "UPLOAD_FOLDER": str(folder / "uploads"), "BACKGROUND_WORK": "worker",
                      "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off",
                      "SEARCH_SYNC_SENDER": "off"})
    yield app
    app.extensions["bazaar.engine"].dispose()


def _command(app, args: list[str]) -> tuple[click.Command, list[str]]:
    """The app's own command that ``args`` name, and the arguments left for it."""
    command, rest = app.cli, list(args)
    with click.Context(app.cli, info_name="flask") as context:
        while isinstance(command, click.Group) and rest:
            found = command.get_command(context, rest[0])
            assert found is not None, f"`flask --app app {' '.join(args)}`: no command {rest[0]!r}"
            command, rest = found, rest[1:]
    return command, rest


def _assert_real_command(app, args: list[str]) -> None:
    """``args`` parse with the real command: it exists, its options exist, their
    values convert and none that is required is missing."""
    command, rest = _command(app, args)
    assert not isinstance(command, click.Group), f"`flask --app app {' '.join(args)}` is a group"
    try:
        command.make_context(command.name, rest)
    except click.ClickException as error:
        raise AssertionError(f"`flask --app app {' '.join(args)}`: {error.format_message()}") \
            from None


def _gunicorn_config(argv: list[str]):
    """gunicorn's own parse of a command line, as gunicorn does at start-up."""
    from gunicorn.config import Config

    assert Path(argv[0]).name == "gunicorn", argv
    config = Config()
    parsed = config.parser().parse_args(argv[1:])
    for key, value in vars(parsed).items():
        if value is not None and key != "args":
            config.set(key.lower(), value)
    return config, parsed.args


def _web_commands() -> dict[str, list[str]]:
    web = _kind("Deployment")["bazaar-web"]
    (container,) = _pod_spec(web)["containers"]
    cmd = next(json.loads(args) for instruction, args in _dockerfile_instructions()
               if instruction == "CMD")
    return {
        "Dockerfile": cmd,
        "compose": _compose()["services"]["web"]["command"],
        "kubernetes": container["command"] + container.get("args", []),
        "systemd": shlex.split(_exec_start(SYSTEMD / "bazaar-web.service")),
    }


def _worker_commands() -> dict[str, list[str]]:
    worker = _kind("Deployment")["bazaar-worker"]
    (container,) = _pod_spec(worker)["containers"]
    return {
        "compose": _compose()["services"]["worker"]["command"],
        "kubernetes": container["command"] + container.get("args", []),
        "systemd": shlex.split(_exec_start(SYSTEMD / "bazaar-worker.service")),
    }


def _expand(field: str, low: int, high: int) -> frozenset[int]:
    """The values a cron or systemd calendar field (``*``, ``5``, ``1-5``, ``*/10``,
    ``00/10``, lists of these) stands for."""
    values = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (int(number) for number in base.split("-"))
        else:
            start = int(base)
            end = high if step else start
        assert low <= start <= end <= high, f"{field!r} is outside {low}-{high}"
        values.update(range(start, end + 1, int(step) if step else 1))
    return frozenset(values)


def _cron_schedule(fields: list[str]) -> tuple[frozenset[int], ...]:
    assert len(fields) == 5, fields
    return tuple(_expand(field, low, high) for field, (low, high) in zip(fields, CRON_RANGES))


def _calendar_schedule(on_calendar: str) -> tuple[frozenset[int], ...]:
    """A systemd ``OnCalendar=`` of the form ``*-MM-DD hh:mm:ss UTC`` (no weekday), as
    the same five sets as a cron schedule."""
    date, time, zone = on_calendar.split()
    assert zone == "UTC", f"{on_calendar!r}: give the time in UTC, whatever the server's zone"
    year, month, day = date.split("-")
    hour, minute, second = time.split(":")
    assert year == "*" and second in {"0", "00"}, on_calendar
    return (_expand(minute, 0, 59), _expand(hour, 0, 23), _expand(day, 1, 31),
            _expand(month, 1, 12), frozenset(range(7)))


def _scheduled() -> dict[str, dict[str, tuple[tuple, list[str]]]]:
    """{job: {scheduler: (schedule, flask args)}} from the cron files, the systemd
    timers and the services they start, and the Kubernetes CronJobs."""
    found: dict[str, dict[str, tuple[tuple, list[str]]]] = {}
    for path in CRON.iterdir():
        for fields, _, command in _cron_entries(path):
            found.setdefault(path.name.removeprefix("bazaar-"), {})["cron"] = (
                _cron_schedule(fields), _flask_args(shlex.split(_month_substituted(command))))
    for timer in SYSTEMD.glob("*.timer"):
        settings = _unit(timer)["Timer"]
        found.setdefault(timer.stem.removeprefix("bazaar-"), {})["systemd"] = (
            _calendar_schedule(settings["OnCalendar"]),
            _flask_args(_argv(shlex.split(_exec_start(SYSTEMD / settings["Unit"])))))
    for name, cronjob in _kind("CronJob").items():
        assert cronjob["spec"]["timeZone"] == "Etc/UTC", name
        (container,) = _pod_spec(cronjob)["containers"]
        words = container.get("command", []) + container.get("args", [])
        found.setdefault(name.removeprefix("bazaar-"), {})["kubernetes"] = (
            _cron_schedule(cronjob["spec"]["schedule"].split()), _flask_args(_argv(words)))
    return found


def _scheduled_commands() -> dict[str, dict[str, list[str]]]:
    return {job: {where: args for where, (_, args) in by.items()}
            for job, by in _scheduled().items()}


def _schedules() -> dict[str, dict[str, tuple]]:
    return {job: {where: when for where, (when, _) in by.items()}
            for job, by in _scheduled().items()}


def test_every_periodic_job_is_in_all_three_schedulers_with_its_command():
    commands = _scheduled_commands()
    assert set(commands) == set(PERIODIC_JOBS), "cron, systemd and Kubernetes schedule these jobs"
    for job, args in PERIODIC_JOBS.items():
        assert set(commands[job]) == {"cron", "systemd", "kubernetes"}, f"{job}: {commands[job]}"
        for scheduler, found in commands[job].items():
            assert found[:len(args)] == args, f"{job} in {scheduler} runs {found}"
        # The same command and options everywhere; only paths (where the statements
        # are written) differ between a host and a pod.
        assert len({tuple(word for word in found if not word.startswith("/"))
                    for found in commands[job].values()}) == 1, \
            f"{job}: the schedulers run different commands: {commands[job]}"


def test_every_periodic_job_runs_at_the_same_times_in_all_three_schedulers():
    schedules = _schedules()
    for job in PERIODIC_JOBS:
        assert set(schedules[job]) == {"cron", "systemd", "kubernetes"}, job
        assert len(set(schedules[job].values())) == 1, \
            f"{job} runs at different times: {schedules[job]}"


def test_statements_run_once_a_month_after_stripes_webhook_retries():
    minute, hour, day, month, weekday = _schedules()["statements"]["cron"]
    assert len(minute) == len(hour) == len(day) == 1 and month == frozenset(range(1, 13))
    # Invoices are booked at the time of Stripe's event, redelivered for up to 3 days.
    assert min(day) >= 4


@pytest.mark.parametrize("job", list(PERIODIC_JOBS))
def test_each_scheduled_command_is_a_real_command_of_the_app(cli_app, job):
    for scheduler, args in _scheduled_commands()[job].items():
        _assert_real_command(cli_app, args)


@pytest.mark.parametrize("scheduler", ["cron", "systemd", "kubernetes"])
def test_statements_name_the_month_that_just_ended(scheduler):
    files = {"cron": CRON / "bazaar-statements",
             "systemd": SYSTEMD / "bazaar-statements.service",
             "kubernetes": KUBERNETES / "bazaar-statements-cronjob.yaml"}
    text = files[scheduler].read_text()
    assert LAST_MONTH_ESCAPED[scheduler] in text, \
        f"{scheduler} must escape the month expression as {LAST_MONTH_ESCAPED[scheduler]}"
    # What the shell makes of it (GNU date), with the scheduler's escaping undone.
    before = datetime.now(UTC)
    shown = subprocess.run(["sh", "-c", f"printf %s {LAST_MONTH}"], capture_output=True,
                           text=True, check=True).stdout
    after = datetime.now(UTC)
    expected = {(moment.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
                for moment in (before, after)}
    assert shown in expected


def _flask_mentions() -> list[tuple[str, list[str]]]:
    """Every ``flask --app app ...`` written in a deploy file or the Dockerfile, in
    prose and comments too, as (file, arguments)."""
    mentions = []
    paths = [DOCKERFILE] + [path for path in DEPLOY.rglob("*") if path.is_file()]
    for path in paths:
        text = _month_substituted(path.read_text())
        # Words up to a space, a quote, a backtick, a comma or a bracket (not `2>&1`).
        for match in re.finditer(r"flask --app app((?: [\w./:=-]+(?![^\s`'\",)\]]))+)", text):
            args = match.group(1).split()
            args[-1] = args[-1].rstrip(".,:;")
            mentions.append((path.relative_to(ROOT).as_posix(), args))
        # Argv lists in YAML/JSON: ["flask", "--app", "app", ...].
        for match in re.finditer(r'\["flask", "--app", "app"((?:, "[^"]*")+)\]', text):
            mentions.append((path.relative_to(ROOT).as_posix(),
                             json.loads("[" + match.group(1).lstrip(", ") + "]")))
    return mentions


def test_every_flask_command_line_in_the_deploy_files_is_real(cli_app):
    mentions = _flask_mentions()
    named = {tuple(args[:2]) for _, args in mentions} | {tuple(args[:1]) for _, args in mentions}
    for args in [*PERIODIC_JOBS.values(), WORKER, MIGRATE]:
        assert tuple(args) in named, f"no deploy file runs `flask --app app {' '.join(args)}`"
    for where, args in mentions:
        try:
            _assert_real_command(cli_app, args)
        except AssertionError as error:
            raise AssertionError(f"{where}: {error}") from None


@pytest.mark.parametrize("where", ["compose", "kubernetes", "systemd"])
def test_the_worker_runs_the_apps_worker_command(cli_app, where):
    # `flask --app app worker` drains every outbox in one process (issue 12).
    argv = _worker_commands()[where]
    args = _flask_args(argv)
    assert args[:len(WORKER)] == WORKER, f"{where} starts {argv}"
    _assert_real_command(cli_app, args)  # with whatever options it passes


def test_the_worker_is_given_time_to_finish_its_rounds_on_sigterm(cli_app):
    command, _ = _command(cli_app, WORKER)
    (grace,) = [float(param.default) for param in command.params if param.name == "grace"]
    pod = _pod_spec(_kind("Deployment")["bazaar-worker"])
    assert pod["terminationGracePeriodSeconds"] > grace
    service = _unit(SYSTEMD / "bazaar-worker.service")["Service"]
    assert service.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert float(service["TimeoutStopSec"].removesuffix("s")) > grace
    compose_grace = _compose()["services"]["worker"]["stop_grace_period"]
    assert float(compose_grace.removesuffix("s")) > grace


@pytest.mark.parametrize("where", ["Dockerfile", "compose", "kubernetes", "systemd"])
def test_the_web_server_is_gunicorn_with_options_it_knows(where):
    import app as app_module

    config, args = _gunicorn_config(_web_commands()[where])
    (target,) = args
    module, _, name = target.partition(":")
    assert module == "app" and isinstance(getattr(app_module, name), type(app_module.app)), target
    # The redacting access log (invitation tokens masked) is the logger in use:
    # gunicorn imports the class named here, so a moved class fails this test.
    assert config.logger_class.__name__ == "RedactingLogger"
    assert config.accesslog == "-"
    # 25 s, the most STRIPE_CALL_BUDGET allows, plus the 5 s margin deploy/README.md asks.
    assert config.timeout >= 30


def test_the_web_servers_workers_share_a_metrics_folder_that_starts_empty():
    # prometheus_client's multiprocess mode: without the folder each gunicorn worker
    # answers /metrics with its own counts; with stale files it adds old ones.
    web = _compose()["services"]["web"]
    assert web["environment"]["PROMETHEUS_MULTIPROC_DIR"] in web["tmpfs"]
    pod = _pod_spec(_kind("Deployment")["bazaar-web"])
    (container,) = pod["containers"]
    (folder,) = [item["value"] for item in container["env"]
                 if item["name"] == "PROMETHEUS_MULTIPROC_DIR"]
    (mount,) = [mount["name"] for mount in container["volumeMounts"]
                if mount["mountPath"] == folder]
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == mount]
    assert "emptyDir" in volume
    service = _unit(SYSTEMD / "bazaar-web.service")["Service"]
    environment = dict(item.split("=", 1) for item in shlex.split(service["Environment"]))
    assert environment["PROMETHEUS_MULTIPROC_DIR"] in \
        {f"/run/{folder}" for folder in service["RuntimeDirectory"].split()}


def test_migrations_run_once_before_web_and_worker(cli_app):
    compose = _compose()["services"]
    assert _flask_args(compose["migrate"]["command"]) == MIGRATE
    assert compose["migrate"]["restart"] == "no"
    for service in ("web", "worker"):
        assert compose[service]["depends_on"]["migrate"] == \
            {"condition": "service_completed_successfully"}, service
    (job,) = [doc for doc in _kind("Job").values()]
    (container,) = _pod_spec(job)["containers"]
    assert _flask_args(container["command"]) == MIGRATE
    assert _pod_spec(job)["restartPolicy"] == "Never"
    _assert_real_command(cli_app, MIGRATE)


def test_every_manifest_is_valid_kubernetes():
    # Strict: a misspelt field (`startingDeadlineSecond`) is an error, not ignored.
    # Against the newest schema the library has and against 1.29, so a cluster a few
    # releases old takes them too (CronJob's timeZone needs 1.27 or later).
    import kubernetes_validate

    for path, document in _kubernetes_documents():
        for version in ("1.29.0", kubernetes_validate.latest_version()):
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                raise AssertionError(f"{path.name} ({version}): {error}") from None


def test_cronjobs_never_run_twice_at_once():
    cronjobs = _kind("CronJob")
    assert cronjobs
    for name, cronjob in cronjobs.items():
        spec = cronjob["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", name
        assert spec["startingDeadlineSeconds"] > 0, name
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0, name
        assert _pod_spec(cronjob)["restartPolicy"] == "Never", name


def test_web_pods_are_probed_on_the_health_endpoints(cli_app):
    web = _kind("Deployment")["bazaar-web"]
    (container,) = _pod_spec(web)["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports, probe
    bind = _gunicorn_config(container["command"])[0].bind
    assert bind == [f"0.0.0.0:{ports['http']}"]
    # The paths are routes of the app: a probe on a missing page keeps every pod unready.
    adapter = cli_app.url_map.bind("bazaar.test")
    for path in ("/readyz", "/healthz"):
        try:
            adapter.match(path, method="GET")
        except (NotFound, MethodNotAllowed):
            raise AssertionError(f"the app has no GET {path} for the probes") from None
    (service,) = _kind("Service").values()
    assert service["spec"]["selector"].items() <= \
        web["spec"]["template"]["metadata"]["labels"].items()


def test_every_container_runs_one_image_as_non_root_with_settings_from_the_secret():
    images = set()
    for path, document in _kubernetes_documents():
        if document["kind"] not in {"Deployment", "Job", "CronJob"}:
            continue
        pod = _pod_spec(document)
        assert pod["securityContext"]["runAsNonRoot"] is True, path.name
        assert pod["automountServiceAccountToken"] is False, path.name
        for container in pod["containers"]:
            images.add(container["image"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["resources"]["limits"]["memory"], path.name
            from_secret = {ref["secretRef"]["name"] for ref in container.get("envFrom", [])
                           if "secretRef" in ref}
            assert from_secret == {"bazaar"}, f"{path.name}: settings from the Secret `bazaar`"
            inline = {item["name"] for item in container.get("env", []) if "value" in item}
            assert not inline & {"DATABASE_URL", "SECRET_KEY", "STRIPE_SECRET_KEY"}, path.name
    assert len(images) == 1, f"every pod runs the same code: {images}"


def test_the_secret_example_holds_no_values_and_is_never_applied_by_accident():
    secrets = [(path, doc) for path, doc in _kubernetes_documents() if doc["kind"] == "Secret"]
    assert secrets
    for path, secret in secrets:
        assert {"DATABASE_URL", "SECRET_KEY"} <= set(secret["stringData"])
        assert all(value == "" for value in secret["stringData"].values()), path.name
        # `kubectl apply -f deploy/kubernetes/` reads only .yaml, .yml and .json files.
        assert path.suffix not in {".yaml", ".yml", ".json"}, path.name


def test_compose_runs_web_worker_migrate_postgres_and_opensearch():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"web", "worker", "migrate", "postgres", "opensearch"}
    for name in ("web", "postgres", "opensearch"):
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    opensearch = services["opensearch"]["environment"]
    assert opensearch["discovery.type"] == "single-node"
    assert opensearch["DISABLE_SECURITY_PLUGIN"] == "true"
    assert "ports" not in services["opensearch"], "OpenSearch without security stays inside"
    for name in ("web", "worker", "migrate"):
        environment = services[name]["environment"]
        assert environment["OPENSEARCH_URL"] == "http://opensearch:9200"
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["BACKGROUND_WORK"] == "worker", "the worker service sends"
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert all(port.startswith("127.0.0.1:") for port in published), published


def test_compose_has_no_secret_and_refuses_to_start_without_one():
    compose = _compose()
    required = re.compile(r"\$\{(SECRET_KEY|POSTGRES_PASSWORD):\?[^}]+\}")
    for name in ("web", "worker", "migrate"):
        environment = compose["services"][name]["environment"]
        assert required.fullmatch(environment["SECRET_KEY"]), environment["SECRET_KEY"]
        assert required.search(environment["DATABASE_URL"]), "the password comes from deploy/.env"
    assert required.fullmatch(compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"])
    example = dict(line.split("=", 1) for line in (DEPLOY / "compose.env.example")
                   .read_text().splitlines() if line and not line.startswith("#"))
    assert example == {"SECRET_KEY": "", "POSTGRES_PASSWORD": ""}, "no value to copy blindly"


def test_the_image_runs_as_a_non_root_user_and_bakes_in_no_secret():
    instructions = _dockerfile_instructions()
    (base,) = [args for instruction, args in instructions if instruction == "FROM"]
    assert re.fullmatch(r"python:3\.1\d-slim(-\w+)?", base), base
    (user,) = [args for instruction, args in instructions if instruction == "USER"]
    assert user.split(":")[0] not in {"0", "root"}
    assert user.split(":")[0] == str(_pod_spec(_kind("Deployment")["bazaar-web"])
                                     ["securityContext"]["runAsUser"])
    settings = " ".join(args for instruction, args in instructions
                        if instruction in {"ENV", "ARG"})
    assert not re.search(r"(SECRET|PASSWORD|DATABASE_URL|TOKEN)\w*=", settings), settings
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for private in (".git", ".venv", "instance", "**/.env"):
        assert private in ignored, f".dockerignore lets {private} into the image"


def test_systemd_units_are_hardened_and_timers_catch_up():
    for service_path in SYSTEMD.glob("*.service"):
        service = _unit(service_path)["Service"]
        assert service["User"] == "bazaar", service_path.name
        assert service["NoNewPrivileges"] == "true", service_path.name
        assert service["ProtectSystem"] == "strict", service_path.name
        assert service["ReadWritePaths"] == service["WorkingDirectory"] + "/instance"
        assert service["EnvironmentFile"] == "/etc/bazaar/bazaar.env", service_path.name
    for name in ("bazaar-web.service", "bazaar-worker.service"):
        unit = _unit(SYSTEMD / name)
        assert unit["Service"]["Restart"] == "on-failure", name
        assert unit["Install"]["WantedBy"] == "multi-user.target", name
    timers = list(SYSTEMD.glob("*.timer"))
    assert {timer.stem.removeprefix("bazaar-") for timer in timers} == set(PERIODIC_JOBS)
    for timer_path in timers:
        timer = _unit(timer_path)
        assert timer["Timer"]["Persistent"] == "true", timer_path.name
        assert timer["Timer"]["Unit"] == timer_path.stem + ".service"
        assert timer["Install"]["WantedBy"] == "timers.target"
        assert _unit(SYSTEMD / timer["Timer"]["Unit"])["Service"]["Type"] == "oneshot"


def test_cron_files_run_as_bazaar_and_log_under_their_name():
    for path in CRON.iterdir():
        (entry,) = _cron_entries(path)
        _, user, command = entry
        assert user == "bazaar", path.name
        assert command.endswith(f"| logger -t {path.name}"), path.name
        assert path.read_text().endswith("\n"), "cron ignores a last line without a newline"
        assert "." not in path.name, "cron.d ignores file names with dots"


def test_gunicorn_conf_is_valid_for_gunicorn_and_warms_each_worker():
    """gunicorn reads gunicorn.conf.py from the directory every example starts it in;
    each setting in it must be one gunicorn knows, with a value it accepts."""
    import runpy

    from gunicorn.config import Config

    settings = {name: value for name, value in
                runpy.run_path(str(ROOT / "gunicorn.conf.py")).items()
                if not name.startswith("__")}
    config = Config()
    for name, value in settings.items():
        config.set(name, value)  # raises on an unknown setting or a bad value
    assert config.worker_class_str == "gthread" and config.threads == 4
    assert "warm_up" in config.post_worker_init.__code__.co_names
