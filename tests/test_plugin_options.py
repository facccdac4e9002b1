"""Options, ini keys, precedence, usage errors, the marker's registration and the plugin off.

No target starts in this file: ``url`` targets (never contacted before the session starts)
or runs that stop at configuration.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_aotparity.config import Settings
from pytest_aotparity.keys import RUN_KEY, SETTINGS_KEY
from pytest_aotparity.targets.base import TargetSpec

JIT = "http://127.0.0.1:9"
AOT = "http://127.0.0.1:10"


def settings_of(pytester: pytest.Pytester, *args: str) -> Settings:
    config = pytester.parseconfigure(*args)
    return config.stash[SETTINGS_KEY]


def write_ini(pytester: pytest.Pytester, body: str) -> None:
    pytester.makeini("[pytest]\n" + textwrap.dedent(body))


ALL_CLI = (
    "--aot-parity",
    f"--aot-parity-jit={JIT}",
    f"--aot-parity-aot={AOT}",
    "--aot-parity-noise=http://127.0.0.1:11",
    "--aot-parity-port=5000",
    "--aot-parity-env=ASPNETCORE_ENVIRONMENT=Testing",
    "--aot-parity-env=FEATURE_X=a=b",
    "--aot-parity-health=/healthz",
    "--aot-parity-start-timeout=12.5",
    "--aot-parity-start-grace=7",
    "--aot-parity-report=out/report.json",
    "--aot-parity-headers=content-type,ETag",
    "--aot-parity-ignore=$.servedAt",
    "--aot-parity-ignore=$..requestId",
    "--aot-parity-ignore-header=x-trace",
    "--aot-parity-ignore-order",
    "--aot-parity-redact=X-Api-Key",
    "--aot-parity-base-url-env=API_BASE_URL",
    "--aot-parity-app-url=http://localhost:5000",
)

ALL_INI = """
    aot_parity = true
    aot_parity_jit = http://127.0.0.1:9
    aot_parity_aot = http://127.0.0.1:10
    aot_parity_noise = http://127.0.0.1:11
    aot_parity_port = 5000
    aot_parity_env =
        ASPNETCORE_ENVIRONMENT=Testing
        FEATURE_X=a=b
    aot_parity_health = /healthz
    aot_parity_start_timeout = 12.5
    aot_parity_start_grace = 7
    aot_parity_report = out/report.json
    aot_parity_headers = content-type, ETag
    aot_parity_ignore =
        $.servedAt
        $..requestId
    aot_parity_ignore_header = x-trace
    aot_parity_ignore_order = true
    aot_parity_redact = X-Api-Key
    aot_parity_base_url_env = API_BASE_URL
    aot_parity_app_url = http://localhost:5000
"""


def expected_settings(root: Path) -> Settings:
    return Settings(
        enabled=True,
        jit=TargetSpec("jit", "url", JIT),
        aot=TargetSpec("aot", "url", AOT),
        noise=TargetSpec("noise", "url", "http://127.0.0.1:11"),
        port=5000,
        env=(("ASPNETCORE_ENVIRONMENT", "Testing"), ("FEATURE_X", "a=b")),
        health_path="/healthz",
        start_timeout=12.5,
        start_grace=7.0,
        report_path=root / "out" / "report.json",
        headers=("content-type", "etag"),
        ignore_paths=("$.servedAt", "$..requestId"),
        ignore_headers=("x-trace",),
        ignore_order=True,
        redact=("x-api-key",),
        base_url_env="API_BASE_URL",
        app_url="http://localhost:5000",
    )


def test_every_option_on_the_command_line(pytester: pytest.Pytester) -> None:
    assert settings_of(pytester, *ALL_CLI) == expected_settings(pytester.path)


def test_every_ini_key(pytester: pytest.Pytester) -> None:
    write_ini(pytester, ALL_INI)
    assert settings_of(pytester) == expected_settings(pytester.path)


def test_defaults(pytester: pytest.Pytester) -> None:
    settings = settings_of(
        pytester, "--aot-parity", f"--aot-parity-jit={JIT}", f"--aot-parity-aot={AOT}"
    )
    assert settings == Settings(
        enabled=True, jit=TargetSpec("jit", "url", JIT), aot=TargetSpec("aot", "url", AOT)
    )
    assert settings.port == 8080
    assert settings.health_path == "/health"
    assert settings.start_timeout == 60
    assert settings.start_grace == 3
    assert settings.headers == ("content-type",)
    assert settings.base_url_env == "AOT_PARITY_BASE_URL"


def test_command_line_wins_over_ini(pytester: pytest.Pytester) -> None:
    write_ini(pytester, ALL_INI)
    settings = settings_of(
        pytester,
        "--aot-parity-jit=image:cli:jit",
        "--aot-parity-aot=cmd:./aot --urls http://127.0.0.1:{port}",
        "--aot-parity-noise=auto",
        "--aot-parity-port=9090",
        "--aot-parity-env=FEATURE_X=cli",
        "--aot-parity-health=/ready",
        "--aot-parity-start-timeout=3",
        "--aot-parity-report=cli.json",
        "--aot-parity-headers=cache-control",
        "--aot-parity-ignore=$.cli",
        "--aot-parity-ignore-header=x-cli",
        "--aot-parity-redact=x-cli-secret",
        "--aot-parity-base-url-env=CLI_URL",
        "--aot-parity-app-url=http://localhost:6000",
        "-o",
        "aot_parity_ignore_order=false",
    )
    assert settings.jit == TargetSpec("jit", "image", "cli:jit")
    assert settings.aot == TargetSpec("aot", "cmd", "./aot --urls http://127.0.0.1:{port}")
    # auto: another copy of the (command-line) JIT target
    assert settings.noise == TargetSpec("noise", "image", "cli:jit")
    assert settings.noise_auto
    assert settings.port == 9090
    # env merges by key, the command line winning
    assert dict(settings.env) == {"ASPNETCORE_ENVIRONMENT": "Testing", "FEATURE_X": "cli"}
    assert settings.health_path == "/ready"
    assert settings.start_timeout == 3
    assert settings.report_path == pytester.path / "cli.json"
    assert settings.headers == ("cache-control",)  # replaces the ini list
    assert settings.ignore_paths == ("$.servedAt", "$..requestId", "$.cli")  # added
    assert settings.ignore_headers == ("x-trace", "x-cli")
    assert settings.redact == ("x-api-key", "x-cli-secret")
    assert settings.ignore_order is False
    assert settings.base_url_env == "CLI_URL"
    assert settings.app_url == "http://localhost:6000"


def test_noise_auto_copies_the_jit_target(pytester: pytest.Pytester) -> None:
    settings = settings_of(
        pytester,
        "--aot-parity",
        "--aot-parity-jit=image:myapi:jit",
        "--aot-parity-aot=image:myapi:aot",
        "--aot-parity-noise=auto",
    )
    assert settings.noise == TargetSpec("noise", "image", "myapi:jit")
    assert settings.noise_auto


def test_ini_can_turn_the_plugin_on_and_o_can_turn_it_off(pytester: pytest.Pytester) -> None:
    write_ini(pytester, ALL_INI)
    config = pytester.parseconfigure()
    assert config.stash[SETTINGS_KEY].enabled
    assert RUN_KEY in config.stash
    config = pytester.parseconfigure("-o", "aot_parity=false")
    assert not config.stash[SETTINGS_KEY].enabled
    assert RUN_KEY not in config.stash


def test_off_by_default_registers_nothing(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfigure()
    assert config.stash[SETTINGS_KEY] == Settings(enabled=False)
    assert RUN_KEY not in config.stash
    assert config.pluginmanager.get_plugin("aotparity-run") is None


# -- usage errors ---------------------------------------------------------------------------

BOTH = (f"--aot-parity-jit={JIT}", f"--aot-parity-aot={AOT}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ("--aot-parity-jit=docker:myapi:jit", f"--aot-parity-aot={AOT}"),
            [
                "unknown target kind 'docker'",
                "did you mean image:myapi:jit",
                "--aot-parity-jit (ini aot_parity_jit)",
            ],
            id="unknown-target-kind",
        ),
        pytest.param(
            (f"--aot-parity-jit={JIT}",),
            ["--aot-parity-aot (ini aot_parity_aot) is not set", "aot_parity_aot = image:"],
            id="missing-aot",
        ),
        pytest.param(
            (f"--aot-parity-aot={AOT}",),
            ["--aot-parity-jit (ini aot_parity_jit) is not set"],
            id="missing-jit",
        ),
        pytest.param(
            (),
            [
                "--aot-parity-jit (ini aot_parity_jit) and --aot-parity-aot (ini aot_parity_aot) "
                "are not set"
            ],
            id="missing-both",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-env=NOVALUE"),
            [
                "--aot-parity-env (ini aot_parity_env)",
                "not KEY=VALUE",
                "--aot-parity-env ASPNETCORE_ENVIRONMENT=Testing",
            ],
            id="env-without-equals",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-env=1BAD=x"),
            ["'1BAD=x'", "not KEY=VALUE"],
            id="env-bad-name",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-start-timeout=0"),
            [
                "--aot-parity-start-timeout (ini aot_parity_start_timeout) = '0'",
                "not a positive number of seconds",
                "--aot-parity-start-timeout 120",
            ],
            id="timeout-zero",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-start-grace=soon"),
            [
                "--aot-parity-start-grace (ini aot_parity_start_grace) = 'soon'",
                "not a number of seconds (0 or more)",
                "--aot-parity-start-grace 10",
            ],
            id="grace-not-a-number",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-start-timeout=-5"),
            ["not a positive number of seconds"],
            id="timeout-negative",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-start-timeout=soon"),
            ["'soon'", "not a positive number of seconds"],
            id="timeout-not-a-number",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-ignore=requestId"),
            [
                "--aot-parity-ignore (ini aot_parity_ignore)",
                "'requestId' is not a JSON path",
                "did you mean '$.requestId'",
            ],
            id="json-path-without-dollar",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-ignore=$.items["),
            ["'$.items[' is not a JSON path", "'$.items[*].id'"],
            id="json-path-broken",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-port=http"),
            ["--aot-parity-port (ini aot_parity_port)", "not a port number"],
            id="port",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-health=health"),
            ["--aot-parity-health (ini aot_parity_health)", "starting with /"],
            id="health-path",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-headers=Content-Type: text/plain"),
            ["--aot-parity-headers (ini aot_parity_headers)", "is not an HTTP header name"],
            id="header-name",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-base-url-env=api-url"),
            [
                "--aot-parity-base-url-env (ini aot_parity_base_url_env)",
                "not an environment variable name",
            ],
            id="base-url-env",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-app-url=localhost:5000"),
            ["--aot-parity-app-url (ini aot_parity_app_url)", "not an http(s) URL"],
            id="app-url-no-scheme",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-app-url=http://localhost:5000/api"),
            ["only an origin"],
            id="app-url-with-path",
        ),
        pytest.param(
            (*BOTH, "--aot-parity-noise=auto"),
            [
                "--aot-parity-noise (ini aot_parity_noise)",
                "the JIT target is a URL",
                "--aot-parity-noise http://127.0.0.1:5081",
            ],
            id="noise-auto-with-url-jit",
        ),
    ],
)
def test_usage_errors(
    pytester: pytest.Pytester, args: tuple[str, ...], expected: list[str]
) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest("--aot-parity", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    for text in expected:
        assert text in err, f"{text!r} not in:\n{err}"
    result.stdout.no_fnmatch_line("*passed*")


def test_usage_error_from_the_ini_file_names_the_ini_key(pytester: pytest.Pytester) -> None:
    write_ini(
        pytester,
        """
        aot_parity = true
        aot_parity_jit = http://127.0.0.1:9
        aot_parity_aot = http://127.0.0.1:10
        aot_parity_start_timeout = 0
    """,
    )
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "aot_parity_start_timeout" in result.stderr.str()


def test_help_and_version_work_with_incomplete_settings(pytester: pytest.Pytester) -> None:
    write_ini(pytester, "aot_parity = true\n")
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "aot-parity (JIT vs Native AOT parity of an HTTP API):",
            "*--aot-parity-jit=TARGET*",
            "*aot_parity_jit (string):*",
        ]
    )
    assert pytester.runpytest("--version").ret == 0


def test_bad_marker_is_a_usage_error(pytester: pytest.Pytester, ok_server: str) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.aot_parity(ignore=["servedAt"])
        def test_x():
            pass
    """)
    result = pytester.runpytest(
        "--aot-parity", f"--aot-parity-jit={ok_server}", f"--aot-parity-aot={ok_server}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "test_x: @pytest.mark.aot_parity(ignore=...)" in err
    assert "did you mean '$.servedAt'" in err


def test_marker_typo_is_named(pytester: pytest.Pytester, ok_server: str) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.aot_parity(ignroe=["$.x"])
        def test_y():
            pass
    """)
    result = pytester.runpytest(
        "--aot-parity", f"--aot-parity-jit={ok_server}", f"--aot-parity-aot={ok_server}"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown argument(s) ignroe" in result.stderr.str()


# -- the plugin off -----------------------------------------------------------------------


def test_marker_is_registered_even_when_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest

        @pytest.mark.aot_parity(skip=True)
        def test_x():
            pass
    """)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1)
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.aot_parity(ignore=*skip=False)*"])


def test_fixtures_skip_with_a_reason_when_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_base(aot_parity_base_url):
            pass

        def test_client(parity_client):
            pass
    """)
    result = pytester.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["*the aot_parity_base_url fixture needs aot-parity: run pytest with --aot-parity*"]
    )


def test_collect_only_starts_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest(
        "--collect-only",
        "--aot-parity",
        "--aot-parity-jit=cmd:false {port}",
        "--aot-parity-aot=cmd:false {port}",
        "--aot-parity-no-generate",
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_x*"])


def test_off_the_same_suite_passes_identically_and_nothing_starts(
    pytester: pytest.Pytester, ok_server: str
) -> None:
    marker = pytester.path / "a-target-started"
    # Targets that would leave a file behind if anything started them.
    starts = f"cmd:touch {marker} && sleep 30 {{port}}"
    pytester.makeini(
        f"""
        [pytest]
        aot_parity_jit = {starts}
        aot_parity_aot = {starts}
        """
    )
    pytester.makepyfile(
        f"""
        import httpx


        def test_untouched_transport():
            assert httpx.HTTPTransport.handle_request.__module__ == "httpx._transports.default"
            assert httpx.AsyncHTTPTransport.handle_async_request.__module__ == (
                "httpx._transports.default"
            )


        def test_requests_as_usual():
            assert httpx.get("{ok_server}/players").json() == {{"ok": True}}


        def test_fails_as_usual():
            assert httpx.get("{ok_server}/x").status_code == 404
        """
    )
    off = pytester.runpytest("-p", "no:aotparity")  # (warns: unknown ini keys)
    default = pytester.runpytest()
    off.assert_outcomes(passed=2, failed=1, warnings=2)
    default.assert_outcomes(passed=2, failed=1)
    assert "aot-parity" not in default.stdout.str()
    assert not marker.exists()


# -- one rule for relative paths ------------------------------------------------------------

BASELINE = '{"version": 1, "entries": []}'
PATH_OPTIONS = {
    "aot_parity_report": "--aot-parity-report",
    "aot_parity_generate_log": "--aot-parity-generate-log",
    "aot_parity_html": "--aot-parity-html",
    "aot_parity_baseline": "--aot-parity-baseline",
}


def _paths(config: pytest.Config) -> dict[str, Path | None]:
    run = config.stash[RUN_KEY]
    generation = config.pluginmanager.get_plugin("aotparity-generate")
    return {
        "aot_parity_report": run.settings.report_path,
        "aot_parity_generate_log": generation.settings.log_path,
        "aot_parity_html": run.gate.settings.html_path,
        "aot_parity_baseline": run.gate.settings.baseline_path,
    }


def test_relative_paths_in_the_ini_file_are_relative_to_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = "\n".join(f"{ini} = out/{ini}.file" for ini in PATH_OPTIONS)
    write_ini(
        pytester,
        f"aot_parity = true\naot_parity_jit = {JIT}\naot_parity_aot = {AOT}\n{lines}\n",
    )
    (pytester.path / "out").mkdir()
    (pytester.path / "out" / "aot_parity_baseline.file").write_text(BASELINE)
    sub = pytester.path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    config = pytester.parseconfigure()
    try:
        assert _paths(config) == {
            ini: pytester.path / "out" / f"{ini}.file" for ini in PATH_OPTIONS
        }
    finally:
        config._ensure_unconfigure()


def test_relative_paths_on_the_command_line_are_relative_to_the_invocation_dir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ini(pytester, f"aot_parity_jit = {JIT}\naot_parity_aot = {AOT}\n")
    sub = pytester.path / "sub"
    (sub / "cli").mkdir(parents=True)
    (sub / "cli" / "aot_parity_baseline.file").write_text(BASELINE)
    monkeypatch.chdir(sub)
    args = [f"{flag}=cli/{ini}.file" for ini, flag in PATH_OPTIONS.items()]
    config = pytester.parseconfigure("--aot-parity", *args)
    try:
        assert _paths(config) == {ini: sub / "cli" / f"{ini}.file" for ini in PATH_OPTIONS}
    finally:
        config._ensure_unconfigure()


def test_default_noise_is_on_and_the_flag_or_ini_turns_it_off(pytester: pytest.Pytester) -> None:
    base = ("--aot-parity", f"--aot-parity-jit={JIT}", f"--aot-parity-aot={AOT}")
    assert settings_of(pytester, *base).default_noise
    assert not settings_of(pytester, *base, "--aot-parity-no-default-noise").default_noise
    write_ini(pytester, "aot_parity_default_noise = false\n")
    assert not settings_of(pytester, *base).default_noise
