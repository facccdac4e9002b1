namespace Players.Mvc.Domain;

/// <summary>A player as stored.</summary>
public sealed class Player
{
    public Guid Id { get; set; }

    public int SquadNumber { get; set; }

    public string FirstName { get; set; } = string.Empty;

    public string? MiddleName { get; set; }

    public string LastName { get; set; } = string.Empty;

    public DateOnly DateOfBirth { get; set; }

    /// <summary>The position's abbreviation, e.g. "GK".</summary>
    public string Position { get; set; } = string.Empty;

    public string? Team { get; set; }

    public string? League { get; set; }

    public bool Starting11 { get; set; }
}
