namespace Players.Mvc.Domain;

/// <summary>Body of POST /players and PUT /players/{squadNumber}.</summary>
public sealed class PlayerRequest
{
    public int SquadNumber { get; set; }

    public string? FirstName { get; set; }

    public string? MiddleName { get; set; }

    public string? LastName { get; set; }

    public DateOnly DateOfBirth { get; set; }

    /// <summary>Position abbreviation, e.g. "GK", "CB", "LW".</summary>
    public string? Position { get; set; }

    public string? Team { get; set; }

    public string? League { get; set; }

    public bool Starting11 { get; set; }
}

/// <summary>A player as the API returns it.</summary>
public sealed class PlayerResponse
{
    public Guid Id { get; set; }

    public int SquadNumber { get; set; }

    public string? FullName { get; set; }

    public string? FirstName { get; set; }

    public string? MiddleName { get; set; }

    public string? LastName { get; set; }

    /// <summary>Formatted for display, e.g. "24 June 1987".</summary>
    public string? BirthDate { get; set; }

    public string? Position { get; set; }

    public string? PositionName { get; set; }

    public string? Team { get; set; }

    public string? League { get; set; }

    public bool Starting11 { get; set; }
}
