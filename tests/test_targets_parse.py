"""TARGET strings: what parses, and what each mistake is told to write instead."""

from __future__ import annotations

import pytest

from pytest_aotparity.targets import TargetSpec, TargetsStartError, TargetStartError, parse_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("image:aotparity-sample:aot", TargetSpec("aot", "image", "aotparity-sample:aot")),
        ("image:aotparity-sample", TargetSpec("aot", "image", "aotparity-sample")),
        (" image: ghcr.io/acme/api:1.2 ", TargetSpec("aot", "image", "ghcr.io/acme/api:1.2")),
        (
            "cmd:./out/aot/PlayersApi --urls http://127.0.0.1:{port}",
            TargetSpec("aot", "cmd", "./out/aot/PlayersApi --urls http://127.0.0.1:{port}"),
        ),
        ("http://127.0.0.1:5080/", TargetSpec("aot", "url", "http://127.0.0.1:5080")),
        ("https://api.example.test/v2", TargetSpec("aot", "url", "https://api.example.test/v2")),
    ],
)
def test_valid_targets(raw: str, expected: TargetSpec) -> None:
    assert parse_target(raw, "aot") == expected


def _usage(raw: str, build: str = "jit") -> str:
    with pytest.raises(pytest.UsageError) as info:
        parse_target(raw, build)  # type: ignore[arg-type]
    return str(info.value)


def test_unknown_kind_lists_the_kinds_with_examples() -> None:
    message = _usage("podman:whatever")
    assert message.startswith("--aot-parity-jit='podman:whatever'")
    assert "image:NAME[:TAG]" in message
    assert "image:aotparity-sample:aot" in message
    assert "cmd:" in message
    assert "{port}" in message
    assert "http://127.0.0.1:" in message


def test_bare_image_name_suggests_the_image_prefix() -> None:
    assert "did you mean image:aotparity-sample:aot?" in _usage("aotparity-sample:aot")


def test_host_and_port_suggests_http() -> None:
    assert "did you mean http://localhost:5000?" in _usage("localhost:5000")


def test_docker_prefix_suggests_image() -> None:
    assert "did you mean image:api:aot?" in _usage("docker:api:aot")


def test_empty_target() -> None:
    assert "the target is empty" in _usage("  ")


def test_empty_image_name() -> None:
    message = _usage("image:", "aot")
    assert "--aot-parity-aot" in message
    assert "the image name is empty" in message
    assert "image:aotparity-sample:aot" in message


def test_image_with_spaces_is_refused() -> None:
    assert "is not a Docker image reference" in _usage("image:my image")


def test_cmd_without_port_placeholder_says_how_to_pass_the_port() -> None:
    message = _usage("cmd:./out/jit/PlayersApi")
    assert "the command has no {port}" in message
    assert "--urls http://127.0.0.1:{port}" in message
    assert "give its URL instead" in message


def test_cmd_empty_and_bad_quoting() -> None:
    assert "the command is empty" in _usage("cmd:   ")
    assert "cannot be split into words" in _usage("cmd:python 'app.py --port {port}")


def test_bad_urls() -> None:
    assert "not a usable URL" in _usage("http://:80")
    assert "not a usable URL" in _usage("http://127.0.0.1:99999")
    assert "query or fragment" in _usage("http://127.0.0.1:5000/?x=1")
    assert "unsupported URL scheme 'ftp'" in _usage("ftp://127.0.0.1:21")


def test_aggregate_start_error_names_every_build() -> None:
    jit = TargetStartError("jit", "exited before it was ready", exit_code=3, log_tail=["boom"])
    aot = TargetStartError("aot", "was not healthy after 5 s on http://127.0.0.1:1/health")
    both = str(TargetsStartError([jit, aot]))
    assert both.startswith("aot-parity: 2 builds could not be started (JIT and AOT)")
    assert "the JIT build exited before it was ready" in both
    assert "exit code: 3" in both
    assert "| boom" in both
    assert "the AOT build was not healthy after 5 s" in both
    assert str(TargetsStartError([aot])) == str(aot)
    assert isinstance(TargetsStartError([aot]), TargetStartError)
