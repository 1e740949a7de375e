"""The scheduling examples in ``deploy/`` run a command the app really has, at
night, never twice at once; the operators' page lists the settings the app reads."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PRUNE_DOC = ROOT / "docs" / "prune.md"
CRON_FILE = DEPLOY / "cron" / "bazaar-prune"
SERVICE_FILE = DEPLOY / "systemd" / "bazaar-prune.service"
TIMER_FILE = DEPLOY / "systemd" / "bazaar-prune.timer"
CRONJOB_FILE = DEPLOY / "kubernetes" / "bazaar-prune-cronjob.yaml"

# One cron field: *, a number, a range, a list, each with an optional /step.
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _cron_entries() -> list[list[str]]:
    """The job lines of the cron.d file (not comments, not VAR=value lines), split
    into the 5 schedule fields, the user and the command."""
    entries = []
    for line in CRON_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        entries.append(line.split(None, 6))
    return entries


def _cronjob() -> dict:
    return yaml.safe_load(CRONJOB_FILE.read_text())


def _flask_args(command: list[str]) -> list[str]:
    """What follows ``flask --app app`` in a command line, up to a pipe or ``&&``."""
    for index, word in enumerate(command):
        if word == "flask" or word.endswith("/flask"):
            rest = command[index + 1:]
            assert rest[:2] == ["--app", "app"], f"the example must name the app: {command}"
            args = []
            for word in rest[2:]:
                if word in {"|", "&&", "||", ";"} or word.startswith("2>"):
                    break
                args.append(word)
            return args
    raise AssertionError(f"no flask command in {command}")


def _example_commands() -> dict[str, list[str]]:
    (entry,) = _cron_entries()
    service = _unit(SERVICE_FILE)
    (container,) = _cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {
        "cron": _flask_args(shlex.split(entry[6])),
        "systemd": _flask_args(shlex.split(service["Service"]["ExecStart"])),
        "kubernetes": _flask_args(container["command"] + container.get("args", [])),
    }


@pytest.mark.parametrize("example", ["cron", "systemd", "kubernetes"])
def test_each_example_runs_the_apps_prune_command(runner, example):
    args = _example_commands()[example]
    assert args == ["listings", "prune"], f"{example} runs {args}"
    # The app's own CLI must know the command (and the options the docs promise).
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "--dry-run" in result.output
    assert "--now" in result.output


def test_cron_runs_nightly_as_the_bazaar_user_with_a_five_field_schedule():
    (entry,) = _cron_entries()
    assert len(entry) == 7, entry
    minute, hour, day, month, weekday, user, command = entry
    for field in (minute, hour, day, month, weekday):
        assert CRON_FIELD.match(field), f"not a cron field: {field!r}"
    assert minute.isdigit() and hour.isdigit(), "once a day, at a fixed time"
    assert (day, month, weekday) == ("*", "*", "*"), "every day"
    assert user == "bazaar"
    assert "logger -t bazaar-prune" in command
    assert CRON_FILE.read_text().endswith("\n"), "cron ignores a last line without a newline"


def test_systemd_service_is_a_hardened_oneshot_as_the_bazaar_user():
    service = _unit(SERVICE_FILE)["Service"]
    assert service["Type"] == "oneshot"
    assert service["User"] == "bazaar"
    assert service["EnvironmentFile"].startswith("/")
    assert service["NoNewPrivileges"] == "true"
    assert service["ProtectSystem"] == "strict"
    # The only writable place is instance/ (the SQLite database and its WAL).
    assert service["ReadWritePaths"] == service["WorkingDirectory"] + "/instance"


def test_systemd_timer_is_nightly_persistent_and_starts_the_service():
    timer = _unit(TIMER_FILE)
    assert timer["Timer"]["OnCalendar"] == "*-*-* 03:17:00 UTC"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == SERVICE_FILE.name
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_cron_and_the_timer_agree_on_the_time():
    (entry,) = _cron_entries()
    hour_minute = f"{int(entry[1]):02d}:{int(entry[0]):02d}:00"
    assert hour_minute in _unit(TIMER_FILE)["Timer"]["OnCalendar"]
    assert _cronjob()["spec"]["schedule"].split()[:2] == entry[:2]


def test_kubernetes_cronjob_forbids_concurrency_and_takes_secrets_from_a_secret():
    cronjob = _cronjob()
    assert cronjob["apiVersion"] == "batch/v1" and cronjob["kind"] == "CronJob"
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["startingDeadlineSeconds"] > 0
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    from_secret = {item["name"] for item in container["env"]
                   if "secretKeyRef" in item.get("valueFrom", {})}
    assert {"DATABASE_URL", "SECRET_KEY", "OPENSEARCH_URL"} <= from_secret
    assert not any("value" in item for item in container["env"]
                   if item["name"] in {"DATABASE_URL", "SECRET_KEY"}), "no secrets inline"
    assert container["resources"]["limits"]["memory"]


def test_deploy_readme_describes_every_file():
    readme = (DEPLOY / "README.md").read_text()
    files = [path.relative_to(DEPLOY).as_posix() for path in DEPLOY.rglob("*")
             if path.is_file() and path.name != "README.md"]
    assert files
    missing = [name for name in files if f"`{name}`" not in readme]
    assert not missing, f"deploy/README.md does not describe {missing}"


def test_prune_doc_gives_every_setting_its_default_and_range():
    from core.settings import SETTINGS, WholeNumber
    from listings.prune_rules import RULES_OFF_SETTING

    rows = {line.split("|")[1].strip(" `"): [cell.strip() for cell in line.split("|")[2:4]]
            for line in PRUNE_DOC.read_text().splitlines() if line.startswith("| `PRUNE_")}
    numbers = [s for s in SETTINGS if s.section == "prune" and isinstance(s.parse, WholeNumber)]
    assert len(numbers) == 10
    for setting in numbers:
        assert setting.name in rows, f"docs/prune.md does not list {setting.name}"
        assert rows[setting.name] == [f"{setting.default:,}", setting.parse.allowed], setting.name
    assert RULES_OFF_SETTING in rows
