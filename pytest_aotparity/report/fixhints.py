"""What to do about a finding: one table of fix hints, each with the official page to read.

A hint applies to a finding when its kind, its category and its evidence match; the first
hint of :data:`HINTS` that applies is shown (the table goes from the most specific to the
most general). The evidence is a text made of what the finding carries: the AOT build's
exception and log lines, the types and members of its linked publish warnings, and the
names of the differing members. Edit the table, not the code, to add a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Doc:
    title: str
    url: str


@dataclass(frozen=True)
class FixHint:
    id: str
    summary: str
    """One line, in the words of the .NET guidance: what to change."""
    docs: tuple[Doc, ...]
    kinds: frozenset[str] = frozenset()
    """Finding kinds it applies to (empty: any)."""
    categories: frozenset[str] = frozenset()
    """Finding categories it applies to (empty: any)."""
    evidence: re.Pattern[str] | None = None
    """Must be found in the finding's evidence text (None: no evidence needed)."""

    def applies(self, kind: str, category: str, evidence: str) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.categories and category not in self.categories:
            return False
        return self.evidence is None or self.evidence.search(evidence) is not None

    def to_dict(self, evidence: str) -> dict[str, Any]:
        summary = self.summary
        if "{type}" in summary:
            match = _JSON_TYPE.search(evidence)
            summary = summary.replace("{type}", _csharp(match.group(1)) if match else "the type")
        return {
            "id": self.id,
            "summary": summary,
            "docs": [{"title": d.title, "url": d.url} for d in self.docs],
        }


_JSON_TYPE = re.compile(r"JsonTypeInfo metadata for type '([^']+)'")


def _csharp(clr_name: str) -> str:
    """A CLR type name as C# writes it: ``System.Collections.Generic.IEnumerable`1[Ns.X]``
    → ``IEnumerable<X>``."""
    text = re.sub(r"`\d+\[", "<", clr_name).replace("]", ">")
    return re.sub(r"(?:[\w]+\.)+(\w+)", r"\1", text)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


NATIVE_AOT = Doc(
    "ASP.NET Core support for Native AOT",
    "https://learn.microsoft.com/aspnet/core/fundamentals/native-aot",
)
FIXING_WARNINGS = Doc(
    "Introduction to trim warnings",
    "https://learn.microsoft.com/dotnet/core/deploying/trimming/fixing-warnings",
)
JSON_SOURCE_GEN = Doc(
    "How to use source generation in System.Text.Json",
    "https://learn.microsoft.com/dotnet/standard/serialization/system-text-json/source-generation",
)

HINTS: tuple[FixHint, ...] = (
    FixHint(
        id="json-serializer-context",
        summary="Add [JsonSerializable(typeof({type}))] to the app's JsonSerializerContext "
        "(and return concrete types such as List<T>, which the context can list); the JIT "
        "build falls back to reflection, the AOT build cannot.",
        docs=(JSON_SOURCE_GEN, NATIVE_AOT),
        evidence=_re(r"JsonTypeInfo metadata|JsonSerializerContext|TypeInfoResolver"),
    ),
    FixHint(
        id="ef-core-compiled-model",
        summary="EF Core under Native AOT needs a compiled model and precompiled queries: "
        "`dotnet ef dbcontext optimize --precompile-queries --nativeaot`, and no query "
        "built at run time.",
        docs=(
            Doc(
                "EF Core: Native AOT support and precompiled queries",
                "https://learn.microsoft.com/ef/core/performance/nativeaot-and-precompiled-queries",
            ),
        ),
        evidence=_re(r"EntityFrameworkCore|DbContext|compiled model"),
    ),
    FixHint(
        id="mvc-controllers",
        summary="MVC controllers are not supported by Native AOT: move the endpoints to "
        "minimal APIs (with the request delegate generator) or keep this app on the JIT.",
        docs=(NATIVE_AOT,),
        kinds=frozenset({"start", "status"}),
        evidence=_re(r"Microsoft\.AspNetCore\.Mvc|AddControllers|MapControllers|ApplicationPart"),
    ),
    FixHint(
        id="enumeration-lookup",
        summary="A lookup finds its values by reflection (Type.GetFields, Enum.GetValues on a "
        "type the trimmer cannot see): list the values in code (a static array the lookup "
        "searches), or annotate the generic parameter with "
        "[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)].",
        docs=(
            Doc(
                "Prepare .NET libraries for trimming: DynamicallyAccessedMembers",
                "https://learn.microsoft.com/dotnet/core/deploying/trimming/"
                "prepare-libraries-for-trimming",
            ),
            FIXING_WARNINGS,
        ),
        kinds=frozenset({"lookup"}),
    ),
    FixHint(
        id="reflection-mapping",
        summary="The object mapper works by reflection over members the trimmer removed or "
        "hid: use source-generated mapping (Riok.Mapperly) or explicit mapping code; "
        "rooting the mapper's assembly (<TrimmerRootAssembly>) only keeps the mapper itself.",
        docs=(
            Doc(
                "Mapperly: a source generator for object mappings",
                "https://mapperly.riok.app/docs/intro/",
            ),
            FIXING_WARNINGS,
        ),
        kinds=frozenset({"members", "aot-fails"}),
        evidence=_re(r"\b(AutoMapper|Mapster|ExpressMapper|TinyMapper|AgileMapper)\b"),
    ),
    FixHint(
        id="explicit-validators",
        summary="Validators found by assembly scanning (AddValidatorsFromAssembly…) are "
        "trimmed away and nothing validates: register each one explicitly "
        "(services.AddScoped<IValidator<T>, TValidator>()) and resolve it with "
        "GetRequiredService, so a missing one fails loudly.",
        docs=(
            Doc(
                "FluentValidation: dependency injection",
                "https://docs.fluentvalidation.net/en/latest/di.html",
            ),
            FIXING_WARNINGS,
        ),
        kinds=frozenset({"validator", "jit-rejects"}),
    ),
    FixHint(
        id="trimmed-members",
        summary="Members read by reflection were trimmed: annotate the type parameter or "
        "member with [DynamicallyAccessedMembers], or, as a last resort, root the type or "
        "assembly (<TrimmerRootAssembly>, <TrimmerRootDescriptor>).",
        docs=(
            FIXING_WARNINGS,
            Doc(
                "Trimming options",
                "https://learn.microsoft.com/dotnet/core/deploying/trimming/trimming-options",
            ),
        ),
        kinds=frozenset({"members"}),
    ),
    FixHint(
        id="serializer-options",
        summary="The source-generated serializer does not use the options the reflection "
        "path had: set naming policy, enum and number handling in "
        "[JsonSourceGenerationOptions] (or the options the context is built with).",
        docs=(JSON_SOURCE_GEN,),
        categories=frozenset({"serialization differs"}),
    ),
    FixHint(
        id="openapi-document",
        summary="The AOT build describes a different API: OpenAPI generation reads endpoint "
        "metadata by reflection; use Microsoft.AspNetCore.OpenApi (AOT-compatible) and "
        "check that every endpoint and type is reachable without reflection.",
        docs=(
            Doc(
                "Generate OpenAPI documents in ASP.NET Core",
                "https://learn.microsoft.com/aspnet/core/fundamentals/openapi/aspnetcore-openapi",
            ),
        ),
        kinds=frozenset({"document"}),
    ),
    FixHint(
        id="aot-exception",
        summary="The AOT build throws where the JIT build does not: the exception and the "
        "linked publish warnings name the code; fix the warning it is linked to.",
        docs=(FIXING_WARNINGS, NATIVE_AOT),
        kinds=frozenset({"aot-fails", "start"}),
    ),
)


def hint_for(kind: str, category: str, evidence: str) -> dict[str, Any] | None:
    """The first hint of :data:`HINTS` that applies, as the report shows it."""
    for hint in HINTS:
        if hint.applies(kind, category, evidence):
            return hint.to_dict(evidence)
    return None
