using System.Globalization;
using Players.Fixed.Domain;
using Riok.Mapperly.Abstractions;

namespace Players.Fixed.Mapping;

/// <summary>
/// The mappings Players.Api made with AutoMapper, generated at compile time by Mapperly: plain
/// property assignments, so nothing is looked up by reflection and nothing can be trimmed away.
/// A member without a source is a build error here, not a default value at run time.
/// </summary>
[Mapper(RequiredMappingStrategy = RequiredMappingStrategy.Target)]
public static partial class PlayerMapper
{
    [MapPropertyFromSource(nameof(PlayerResponse.FullName), Use = nameof(FullNameOf))]
    [MapProperty(nameof(Player.DateOfBirth), nameof(PlayerResponse.BirthDate), Use = nameof(BirthDateOf))]
    [MapProperty(nameof(Player.Position), nameof(PlayerResponse.PositionName), Use = nameof(PositionNameOf))]
    public static partial PlayerResponse ToResponse(this Player player);

    public static partial List<PlayerResponse> ToResponses(this IEnumerable<Player> players);

    /// <summary>Copies a request onto a stored player; the id and squad number stay the caller's.</summary>
    [MapperIgnoreTarget(nameof(Player.Id))]
    [MapperIgnoreTarget(nameof(Player.SquadNumber))]
    [MapperIgnoreSource(nameof(PlayerRequest.SquadNumber))]
    [MapProperty(nameof(PlayerRequest.Position), nameof(Player.Position), Use = nameof(UpperInvariant))]
    public static partial void ApplyTo(this PlayerRequest request, Player player);

    // Default = false: Mapperly would otherwise use any string-to-string method of the mapper
    // for every string member.
    [UserMapping(Default = false)]
    private static string FullNameOf(Player player) =>
        string.Join(
            " ",
            new[] { player.FirstName, player.MiddleName, player.LastName }
                .Where(part => !string.IsNullOrWhiteSpace(part)));

    [UserMapping(Default = false)]
    private static string BirthDateOf(DateOnly dateOfBirth) =>
        dateOfBirth.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);

    [UserMapping(Default = false)]
    private static string? PositionNameOf(string abbreviation) =>
        Position.FromAbbreviation(abbreviation)?.Name;

    [UserMapping(Default = false)]
    private static string UpperInvariant(string? abbreviation) => abbreviation!.ToUpperInvariant();
}
