using System.Text.Json.Serialization;
using Players.Api.Domain;

namespace Players.Api;

/// <summary>Source-generated JSON metadata for the API's types (the AOT guidance).</summary>
[JsonSerializable(typeof(PlayerRequest))]
[JsonSerializable(typeof(PlayerResponse))]
[JsonSerializable(typeof(List<PlayerResponse>))]
internal partial class AppJsonSerializerContext : JsonSerializerContext
{
}
