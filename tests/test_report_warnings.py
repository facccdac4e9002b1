"""Publish warnings: both input formats (JSON, raw ``dotnet publish`` log) and the
explainable links from divergences to warnings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_aotparity.report.warnings import (
    LinkResult,
    PublishWarning,
    WarningLinker,
    WarningSet,
    WarningsFileError,
    declaring_type,
    field_name,
    load_warnings,
    parse_publish_log,
    parse_warnings_text,
    split_member,
    warnings_section,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE_JSON = REPO / "sample_app" / "out" / "aot-warnings.json"
SAMPLE_LOG = REPO / "sample_app" / "out" / "aot-publish.log"

PROJECT = "[/src/Players.Api/Players.Api.csproj]"
LOG = f"""\
  Determining projects to restore...
  All projects are up-to-date for restore.
/src/Players.Api/Domain/Enumeration.cs(24,9): warning IL2090: 'this' argument does not satisfy 'DynamicallyAccessedMemberTypes.PublicFields' in call to 'System.Type.GetFields(BindingFlags)'. The generic parameter 'T' of 'Players.Api.Domain.Enumeration.GetAll<T>()' does not have matching annotations. {PROJECT}
ILC : Trim analysis warning IL2070: AutoMapper.Internal.TypeDetails.<>c__DisplayClass29_0.<GetProperties>b__0(Type): 'this' argument does not satisfy 'DynamicallyAccessedMemberTypes.PublicProperties' in call to 'System.Type.GetProperties(BindingFlags)'. {PROJECT}
ILC : AOT analysis warning IL3050: AutoMapper.Internal.Mappers.CollectionMapper.<MapExpression>g__GetDestinationType|3_2(CollectionMapper.<>c__DisplayClass3_1&): Using member 'System.Type.MakeArrayType()' which has 'RequiresDynamicCodeAttribute' can break functionality when AOT compiling. {PROJECT}
1>ILC : Trim analysis warning IL2026: FluentValidation.AssemblyScanner.FindValidatorsInAssembly(Assembly,Boolean): Using member 'System.Reflection.Assembly.GetTypes()' which has 'RequiresUnreferencedCodeAttribute' can break functionality when trimming application code. Types might be removed. {PROJECT}
ILC : Trim analysis warning IL2026: Players.Api.Dtos.PlayerResponse.get_FullName(): Using member 'System.Reflection.PropertyInfo.GetValue(Object)' which has 'RequiresUnreferencedCodeAttribute' can break functionality when trimming application code. {PROJECT}
ILC : warning IL2104: Assembly 'Newtonsoft.Json' produced trim warnings. For more information see https://aka.ms/dotnet-illink/libraries {PROJECT}
ILC : Trim analysis warning IL2070: AutoMapper.Internal.TypeDetails.<>c__DisplayClass29_0.<GetProperties>b__0(Type): 'this' argument does not satisfy 'DynamicallyAccessedMemberTypes.PublicProperties' in call to 'System.Type.GetProperties(BindingFlags)'. {PROJECT}
Build succeeded.
    7 Warning(s)
    0 Error(s)
"""  # noqa: E501  (real publish log lines are long)


def test_split_member_and_declaring_type() -> None:
    member, message = split_member("Ns.T.<>c.<M>b__0(Type): 'this' argument: x")
    assert member == "Ns.T.<>c.<M>b__0(Type)"
    assert message == "'this' argument: x"
    assert split_member("Assembly 'X' produced trim warnings.") == (
        None,
        "Assembly 'X' produced trim warnings.",
    )
    lambda_member = (
        "AutoMapper.Internal.TypeDetails.<>c__DisplayClass29_0.<GetProperties>b__0(Type)"
    )
    assert declaring_type(lambda_member) == "AutoMapper.Internal.TypeDetails"
    assert declaring_type("Ns.Outer.<>c.<Execute>b__6_1(Type)") == "Ns.Outer"
    assert declaring_type("AutoMapper.Internal.LockingConcurrentDictionary`2._dictionary") == (
        "AutoMapper.Internal.LockingConcurrentDictionary`2"
    )
    assert declaring_type(None) is None


def test_publish_log_is_parsed_and_deduplicated() -> None:
    warnings = parse_publish_log(LOG)
    assert [w.code for w in warnings] == [
        "IL2090",
        "IL2070",
        "IL3050",
        "IL2026",
        "IL2026",
        "IL2104",
    ]
    source, getprops, collection, scanner, fullname, collapsed = warnings
    # a source-level analyzer warning: no member, the type from the file name
    assert source.member is None
    assert source.type == "Players.Api.Domain.Enumeration"
    assert (source.file, source.line) == ("/src/Players.Api/Domain/Enumeration.cs", 24)
    assert source.in_app_source
    assert source.location == "Enumeration.cs:24"
    # ILC trim and AOT analysis warnings: member, declaring type, kind
    assert (
        getprops.member
        == "AutoMapper.Internal.TypeDetails.<>c__DisplayClass29_0.<GetProperties>b__0(Type)"
    )
    assert getprops.kind == "trim"
    assert getprops.library == "AutoMapper"
    assert "AutoMapper.Internal.TypeDetails.GetProperties" in getprops.methods
    assert collection.kind == "aot"
    assert collection.type == "AutoMapper.Internal.Mappers.CollectionMapper"
    assert "AutoMapper.Internal.Mappers.CollectionMapper.MapExpression" in collection.methods
    # MSBuild's "1>" node prefix is stripped
    assert scanner.type == "FluentValidation.AssemblyScanner"
    assert fullname.type == "Players.Api.Dtos.PlayerResponse"
    # a collapsed library warning (TrimmerSingleWarn): the assembly is the library
    assert collapsed.member is None
    assert collapsed.assembly == "Newtonsoft.Json"
    assert collapsed.library == "Newtonsoft"
    assert "TrimmerSingleWarn" in collapsed.meaning


def test_format_is_detected_from_the_content(tmp_path: Path) -> None:
    log = tmp_path / "aot-publish.log"
    log.write_text(LOG)
    from_log = load_warnings(log)
    assert from_log.format == "publish log"
    records = [w.to_dict() for w in from_log.warnings]
    as_json = tmp_path / "warnings.json"
    as_json.write_text(json.dumps({"count": len(records), "warnings": records}))
    from_json = load_warnings(as_json)
    assert from_json.format == "json"
    assert from_json.warnings == from_log.warnings
    bare_list = tmp_path / "list.json"
    bare_list.write_text(json.dumps(records))
    assert load_warnings(bare_list).warnings == from_log.warnings


def test_the_sample_apps_json_and_log_give_the_same_warnings() -> None:
    from_json = load_warnings(SAMPLE_JSON)
    from_log = load_warnings(SAMPLE_LOG)
    assert from_json.format == "json"
    assert from_log.format == "publish log"
    data = json.loads(SAMPLE_JSON.read_text())
    assert len(from_json.warnings) == data["count"] == len(from_log.warnings)
    assert dict(from_json.by_code()) == data["by_code"] == dict(from_log.by_code())
    key = [(w.code, w.member, w.message) for w in from_json.warnings]
    assert sorted(key, key=str) == sorted(
        [(w.code, w.member, w.message) for w in from_log.warnings], key=str
    )
    assert from_log.app_roots() == {"Players"}


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"count": 1}', "'warnings' list"),
        ('{"warnings": [{"member": "x"}]}', "'code' string"),
    ],
)
def test_bad_json_files_say_what_to_give(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "w.json"
    path.write_text(content)
    with pytest.raises(WarningsFileError, match=match):
        load_warnings(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(WarningsFileError, match="no such file"):
        load_warnings(tmp_path / "nope.log")
    with pytest.raises(WarningsFileError, match="directory"):
        load_warnings(tmp_path)


def test_a_log_without_warnings_is_valid_and_empty() -> None:
    warnings = parse_warnings_text("Build succeeded.\n    0 Warning(s)\n", "clean.log")
    assert warnings.format == "publish log"
    assert warnings.warnings == []


def test_field_name() -> None:
    assert field_name("$.items[*].squadNumber") == "squadNumber"
    assert field_name("$['odd key']") == "odd key"
    assert field_name("$[*]") is None
    assert field_name("status") is None
    assert field_name("header:content-type") is None


# -- links --------------------------------------------------------------------------------


def record(
    category: str,
    path: str,
    differences: list[tuple[str, str]],
    *,
    tail: list[str] | None = None,
    aot_status: int | None = 200,
    aot_body: str | None = None,
) -> dict[str, Any]:
    return {
        "category": category,
        "method": "GET",
        "path": path,
        "path_template": path,
        "differences": [{"path": p, "generic_path": p, "kind": k} for p, k in differences],
        "aot_log_tail": tail,
        "responses": {
            "jit": {"status": 200},
            "aot": {"status": aot_status, "body": aot_body, "body_encoding": "utf-8"},
        },
    }


def linked(result: LinkResult) -> dict[str, list[str]]:
    return {f"{link.warning.code} {link.warning.member}": link.reasons for link in result.links}


@pytest.fixture(scope="module")
def sample_linker() -> WarningLinker:
    return WarningLinker(load_warnings(SAMPLE_LOG))


def test_bypassed_validator_links_to_validator_discovery(sample_linker: WarningLinker) -> None:
    result = sample_linker.link(record("validator bypassed", "/players", [("status", "status")]))
    top = result.links[:4]
    assert {link.warning.library for link in top} == {"FluentValidation"}
    for link in top:
        assert any("validator was bypassed" in reason for reason in link.reasons)
    assert result.note is None


def test_aot_failure_links_through_the_stack_trace(sample_linker: WarningLinker) -> None:
    tail = [
        "fail: Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware[1]",
        "System.ArgumentOutOfRangeException: Cannot find member GetEnumerator of type "
        "System.Collections.Generic.List`1[Players.Api.Domain.Player]",
        "   at AutoMapper.Internal.TypeExtensions.GetInheritedMethod(Type type, String name)",
        "   at AutoMapper.Internal.Mappers.CollectionMapper.MapExpression(IGlobalConfiguration c)",
    ]
    result = sample_linker.link(
        record(
            "AOT failure", "/players/starting11", [("status", "status")], tail=tail, aot_status=500
        )
    )
    best = result.links[0]
    assert best.warning.type == "AutoMapper.Internal.Mappers.CollectionMapper"
    assert best.score >= 10
    assert any(
        "passes through AutoMapper.Internal.Mappers.CollectionMapper.MapExpression" in r
        for r in best.reasons
    )
    # the stack line is quoted, so a person can check the link
    assert any(
        "at AutoMapper.Internal.Mappers.CollectionMapper.MapExpression" in r for r in best.reasons
    )
    assert result.more > 0


def test_a_failure_no_warning_names_says_so(sample_linker: WarningLinker) -> None:
    tail = [
        "System.NotSupportedException: JsonTypeInfo metadata for type "
        "'System.Collections.Generic.IEnumerable`1[Players.Api.Endpoints.LeagueSummary]' was "
        "not provided by TypeInfoResolver",
    ]
    result = sample_linker.link(
        record("AOT failure", "/players/leagues", [("status", "status")], tail=tail, aot_status=500)
    )
    assert result.links == []
    assert result.note is not None
    assert "found only by running the AOT build" in result.note


def test_lost_mapping_data_prefers_the_apps_own_code_and_member_reflection(
    sample_linker: WarningLinker,
) -> None:
    result = sample_linker.link(
        record(
            "mapping lost data",
            "/players/{id}",
            [("$.team", "null vs value"), ("$.squadNumber", "value change")],
        )
    )
    reasons = linked(result)
    assert len(result.links) == 8
    assert result.more > 50  # the many AutoMapper warnings are counted, not listed
    codes_in_app = [link for link in result.links if link.warning.in_app_source]
    assert codes_in_app, reasons
    getprops = [r for key, r in reasons.items() if "TypeDetails" in key and "GetProperties" in key]
    assert getprops, reasons
    assert any("reflection over properties or fields" in r for r in getprops[0])


def test_a_differing_field_named_by_a_warning_links_to_it() -> None:
    linker = WarningLinker(WarningSet(parse_publish_log(LOG), "log", "publish log"))
    result = linker.link(
        record("mapping lost data", "/players/{id}", [("$.fullName", "missing field")])
    )
    best = result.links[0]
    assert best.warning.member == "Players.Api.Dtos.PlayerResponse.get_FullName()"
    assert "the differing field 'fullName' is named in the warning" in best.reasons


def test_json_failures_link_to_serializer_warnings() -> None:
    warnings = parse_publish_log(
        "ILC : Trim analysis warning IL2026: System.Text.Json.JsonSerializer.Serialize<TValue>"
        "(TValue,JsonSerializerOptions): Using member 'x' which has "
        "'RequiresUnreferencedCodeAttribute'. [p]\n"
    )
    linker = WarningLinker(WarningSet(warnings))
    failure = record(
        "AOT failure",
        "/players/{id}/stats",
        [("status", "status")],
        tail=["System.InvalidOperationException: Reflection-based serialization has been disabled"],
        aot_status=500,
    )
    result = linker.link(failure)
    assert len(result.links) == 1
    assert any("failed serializing JSON" in r for r in result.links[0].reasons)
    serialization = linker.link(
        record("serialization differs", "/p", [("$.position", "type change")])
    )
    assert any("System.Text.Json" in r for r in serialization.links[0].reasons)


def test_the_aot_body_counts_as_failure_text_only_for_5xx() -> None:
    warnings = parse_publish_log(
        "ILC : Trim analysis warning IL2070: Acme.Orders.Mapper.Map(Type): 'this' argument "
        "does not satisfy. [p]\n"
    )
    linker = WarningLinker(WarningSet(warnings))
    body = '{"detail": "at Acme.Orders.Mapper.Map(Type t)"}'
    failed = linker.link(
        record("AOT failure", "/orders", [("status", "status")], aot_status=500, aot_body=body)
    )
    assert failed.links
    assert failed.links[0].score >= 10
    fine = linker.link(
        record("behaviour differs", "/orders", [("$.x", "value change")], aot_body=body)
    )
    assert fine.links == []


def test_warnings_section_groups_and_counts_links() -> None:
    warning_set = WarningSet(parse_publish_log(LOG), "aot.log", "publish log")
    linker = WarningLinker(warning_set)
    records = [
        record("validator bypassed", "/players", [("status", "status")]),
        record("behaviour differs", "/health", [("header:x", "header")]),
    ]
    for r in records:
        r["warnings"] = linker.link(r).to_dict()
    section = warnings_section(warning_set, records)
    assert section["count"] == 6
    assert [g["code"] for g in section["by_code"]] == [
        "IL2026",
        "IL2070",
        "IL2090",
        "IL2104",
        "IL3050",
    ]
    assert section["by_code"][0]["count"] == 2
    assert section["by_library"]["AutoMapper"] == 2
    assert section["divergences_linked"] == 1
    assert section["divergences_unlinked"] == 1
    scanner = next(
        w for w in section["warnings"] if w["type"] == "FluentValidation.AssemblyScanner"
    )
    assert scanner["divergences"] == 1


def test_publish_warning_to_dict_round_trips_through_json() -> None:
    warning = PublishWarning("IL2026", "trim", "A.B.C()", "A.B", "m", None, "ILC", None)
    data = warning.to_dict()
    assert data["library"] == "A"
    text = json.dumps({"warnings": [data]})
    assert parse_warnings_text(text).warnings == [warning]


def test_docker_build_output_is_read_too() -> None:
    """``docker build --progress=plain`` prefixes every line with its step and time."""
    wrapped = "\n".join(f"#14 {12.5 + i:.3f} {line}" for i, line in enumerate(LOG.splitlines()))
    stamped = "\n".join(f"2026-01-02T03:04:05.1234567Z {line}" for line in LOG.splitlines())
    plain = parse_publish_log(LOG)
    assert parse_publish_log(wrapped) == plain
    assert parse_publish_log(stamped) == plain
    assert parse_publish_log(wrapped)[0].file == "/src/Players.Api/Domain/Enumeration.cs"
