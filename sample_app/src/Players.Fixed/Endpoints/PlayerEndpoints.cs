using Microsoft.AspNetCore.Http.HttpResults;
using Players.Fixed.Data;
using Players.Fixed.Domain;
using Players.Fixed.Mapping;
using Players.Fixed.Validation;

namespace Players.Fixed.Endpoints;

/// <summary>How many players of the squad play in one league.</summary>
public sealed record LeagueSummary(string League, int Players, int Starting11);

public static class PlayerEndpoints
{
    public static RouteGroupBuilder MapPlayers(this IEndpointRouteBuilder routes)
    {
        var players = routes.MapGroup("/players").WithTags("Players");

        players.MapGet("/", ListAsync).WithName("ListPlayers");
        players.MapGet("/starting11", StartingElevenAsync).WithName("ListStartingEleven");
        players.MapGet("/leagues", LeaguesAsync).WithName("ListLeagues");
        players.MapGet("/{squadNumber:int}", GetAsync).WithName("GetPlayer");
        players.MapGet("/by-id/{id:guid}", GetByIdAsync).WithName("GetPlayerById");
        players.MapPost("/", CreateAsync)
            .AddEndpointFilter<ValidationFilter<PlayerRequest>>()
            .WithName("CreatePlayer");
        players.MapPut("/{squadNumber:int}", UpdateAsync)
            .AddEndpointFilter<ValidationFilter<PlayerRequest>>()
            .WithName("UpdatePlayer");
        players.MapDelete("/{squadNumber:int}", DeleteAsync).WithName("DeletePlayer");
        return players;
    }

    private static async Task<Ok<List<PlayerResponse>>> ListAsync(
        PlayerRepository repository, CancellationToken ct)
    {
        var all = await repository.ListAsync(ct);
        return TypedResults.Ok(all.ToResponses());
    }

    private static async Task<Ok<List<PlayerResponse>>> StartingElevenAsync(
        PlayerRepository repository, CancellationToken ct)
    {
        var all = await repository.ListAsync(ct);
        return TypedResults.Ok(all.Where(p => p.Starting11).ToResponses());
    }

    // A typed result of a type listed in AppJsonSerializerContext (Players.Api returned an
    // IEnumerable<LeagueSummary> through IResult, which only reflection could serialize).
    private static async Task<Ok<List<LeagueSummary>>> LeaguesAsync(PlayerRepository repository, CancellationToken ct)
    {
        var all = await repository.ListAsync(ct);
        var summary = all
            .GroupBy(p => p.League ?? "(none)")
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new LeagueSummary(g.Key, g.Count(), g.Count(p => p.Starting11)))
            .ToList();
        return TypedResults.Ok(summary);
    }

    private static async Task<Results<Ok<PlayerResponse>, ProblemHttpResult>> GetAsync(
        int squadNumber, PlayerRepository repository, CancellationToken ct)
    {
        var player = await repository.FindBySquadNumberAsync(squadNumber, ct);
        return player is null
            ? NotFound($"No player wears squad number {squadNumber}.")
            : TypedResults.Ok(player.ToResponse());
    }

    private static async Task<Results<Ok<PlayerResponse>, ProblemHttpResult>> GetByIdAsync(
        Guid id, PlayerRepository repository, CancellationToken ct)
    {
        var player = await repository.FindByIdAsync(id, ct);
        return player is null
            ? NotFound($"No player has id {id}.")
            : TypedResults.Ok(player.ToResponse());
    }

    private static async Task<Results<Created<PlayerResponse>, ProblemHttpResult>> CreateAsync(
        PlayerRequest request, PlayerRepository repository, CancellationToken ct)
    {
        if (await repository.FindBySquadNumberAsync(request.SquadNumber, ct) is not null)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "Conflict",
                detail: $"Squad number {request.SquadNumber} is already taken.");
        }

        var player = new Player
        {
            Id = Guid.NewGuid(),
            SquadNumber = request.SquadNumber,
            FirstName = request.FirstName!.Trim(),
            MiddleName = string.IsNullOrWhiteSpace(request.MiddleName) ? null : request.MiddleName.Trim(),
            LastName = request.LastName!.Trim(),
            DateOfBirth = request.DateOfBirth,
            Position = request.Position!.ToUpperInvariant(),
            Team = request.Team,
            League = request.League,
            Starting11 = request.Starting11,
        };
        repository.Insert(player);
        return TypedResults.Created($"/players/{player.SquadNumber}", player.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> UpdateAsync(
        int squadNumber, PlayerRequest request, PlayerRepository repository, CancellationToken ct)
    {
        var existing = await repository.FindBySquadNumberAsync(squadNumber, ct);
        if (existing is null)
        {
            return NotFound($"No player wears squad number {squadNumber}.");
        }

        request.ApplyTo(existing);
        await repository.UpdateAsync(existing, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        int squadNumber, PlayerRepository repository, CancellationToken ct)
    {
        return await repository.DeleteAsync(squadNumber, ct)
            ? TypedResults.NoContent()
            : NotFound($"No player wears squad number {squadNumber}.");
    }

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: detail);
}
