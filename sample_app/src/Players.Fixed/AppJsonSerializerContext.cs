using System.Text.Json.Serialization;
using Players.Fixed.Domain;
using Players.Fixed.Endpoints;

namespace Players.Fixed;

/// <summary>
/// Source-generated JSON metadata for every type the API reads or writes. With
/// JsonSerializerIsReflectionEnabledByDefault=false (the csproj) a type missing here fails in
/// the JIT build too, not only in the AOT build.
/// </summary>
[JsonSerializable(typeof(PlayerRequest))]
[JsonSerializable(typeof(PlayerResponse))]
[JsonSerializable(typeof(List<PlayerResponse>))]
[JsonSerializable(typeof(List<LeagueSummary>))]
internal partial class AppJsonSerializerContext : JsonSerializerContext
{
}
