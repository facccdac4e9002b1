using System.Globalization;
using AutoMapper;
using Players.Mvc.Domain;

namespace Players.Mvc.Mapping;

/// <summary>AutoMapper profile, picked up by assembly scanning (AddAutoMapper in Program.cs).</summary>
public sealed class PlayerProfile : Profile
{
    public PlayerProfile()
    {
        // Convention-mapped members (Id, SquadNumber, names, Team, League, Starting11, Position)
        // plus computed ones.
        CreateMap<Player, PlayerResponse>()
            .ForMember(
                dest => dest.FullName,
                opt => opt.MapFrom(src => string.Join(
                    " ",
                    new[] { src.FirstName, src.MiddleName, src.LastName }
                        .Where(part => !string.IsNullOrWhiteSpace(part)))))
            .ForMember(
                dest => dest.BirthDate,
                opt => opt.MapFrom(src => src.DateOfBirth.ToString("d MMMM yyyy", CultureInfo.InvariantCulture)))
            .ForMember(
                dest => dest.PositionName,
                opt => opt.MapFrom(src => PositionNameOf(src.Position)));

        CreateMap<PlayerRequest, Player>()
            .ForMember(dest => dest.Id, opt => opt.Ignore())
            .ForMember(dest => dest.Position, opt => opt.MapFrom(src => src.Position!.ToUpperInvariant()));
    }

    private static string? PositionNameOf(string abbreviation) =>
        Position.FromAbbreviation(abbreviation)?.Name;
}
