using AutoMapper;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Players.Mvc.Data;
using Players.Mvc.Domain;

namespace Players.Mvc.Controllers;

/// <summary>How many players of the squad play in one league.</summary>
public sealed record LeagueSummary(string League, int Players, int Starting11);

/// <summary>The players API of Players.Api, as an MVC controller.</summary>
[ApiController]
[Route("players")]
public sealed class PlayersController(
    PlayersDbContext db, IMapper mapper, IValidator<PlayerRequest> validator) : ControllerBase
{
    [HttpGet(Name = "ListPlayers")]
    public async Task<ActionResult<List<PlayerResponse>>> List(CancellationToken ct)
    {
        var all = await db.Players.AsNoTracking().OrderBy(p => p.SquadNumber).ToListAsync(ct);
        return all.Select(player => mapper.Map<PlayerResponse>(player)).ToList();
    }

    [HttpGet("starting11", Name = "ListStartingEleven")]
    public async Task<ActionResult<List<PlayerResponse>>> StartingEleven(CancellationToken ct)
    {
        var starting = await db.Players.AsNoTracking()
            .Where(p => p.Starting11)
            .OrderBy(p => p.SquadNumber)
            .ToListAsync(ct);
        return mapper.Map<List<PlayerResponse>>(starting);
    }

    [HttpGet("leagues", Name = "ListLeagues")]
    public async Task<ActionResult<IEnumerable<LeagueSummary>>> Leagues(CancellationToken ct)
    {
        var all = await db.Players.AsNoTracking().OrderBy(p => p.SquadNumber).ToListAsync(ct);
        var summary = all
            .GroupBy(p => p.League ?? "(none)")
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new LeagueSummary(g.Key, g.Count(), g.Count(p => p.Starting11)));
        return Ok(summary);
    }

    [HttpGet("{squadNumber:int}", Name = "GetPlayer")]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<ActionResult<PlayerResponse>> Get(int squadNumber, CancellationToken ct)
    {
        var player = await db.Players.AsNoTracking().FirstOrDefaultAsync(p => p.SquadNumber == squadNumber, ct);
        return player is null
            ? NotFoundProblem($"No player wears squad number {squadNumber}.")
            : mapper.Map<PlayerResponse>(player);
    }

    [HttpGet("by-id/{id:guid}", Name = "GetPlayerById")]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<ActionResult<PlayerResponse>> GetById(Guid id, CancellationToken ct)
    {
        var player = await db.Players.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        return player is null
            ? NotFoundProblem($"No player has id {id}.")
            : mapper.Map<PlayerResponse>(player);
    }

    [HttpPost(Name = "CreatePlayer")]
    [ProducesResponseType(StatusCodes.Status201Created)]
    [ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status409Conflict, "application/problem+json")]
    public async Task<ActionResult<PlayerResponse>> Create(PlayerRequest request, CancellationToken ct)
    {
        if (await InvalidAsync(request, ct) is { } invalid)
        {
            return invalid;
        }

        if (await db.Players.AnyAsync(p => p.SquadNumber == request.SquadNumber, ct))
        {
            return Problem(
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
        db.Players.Add(player);
        await db.SaveChangesAsync(ct);
        return Created($"/players/{player.SquadNumber}", mapper.Map<PlayerResponse>(player));
    }

    [HttpPut("{squadNumber:int}", Name = "UpdatePlayer")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType(typeof(ValidationProblemDetails), StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<IActionResult> Update(int squadNumber, PlayerRequest request, CancellationToken ct)
    {
        if (await InvalidAsync(request, ct) is { } invalid)
        {
            return invalid;
        }

        var existing = await db.Players.FirstOrDefaultAsync(p => p.SquadNumber == squadNumber, ct);
        if (existing is null)
        {
            return NotFoundProblem($"No player wears squad number {squadNumber}.");
        }

        var id = existing.Id;
        mapper.Map(request, existing);
        existing.Id = id;
        existing.SquadNumber = squadNumber;
        await db.SaveChangesAsync(ct);
        return NoContent();
    }

    [HttpDelete("{squadNumber:int}", Name = "DeletePlayer")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType(typeof(ProblemDetails), StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<IActionResult> Delete(int squadNumber, CancellationToken ct)
    {
        var existing = await db.Players.FirstOrDefaultAsync(p => p.SquadNumber == squadNumber, ct);
        if (existing is null)
        {
            return NotFoundProblem($"No player wears squad number {squadNumber}.");
        }

        db.Players.Remove(existing);
        await db.SaveChangesAsync(ct);
        return NoContent();
    }

    // FluentValidation 12 has no automatic MVC validation: validate in the action and answer
    // as [ApiController] answers invalid model state (400 validation problem details).
    private async Task<ActionResult?> InvalidAsync(PlayerRequest request, CancellationToken ct)
    {
        var result = await validator.ValidateAsync(request, ct);
        if (result.IsValid)
        {
            return null;
        }

        foreach (var error in result.Errors)
        {
            ModelState.AddModelError(error.PropertyName, error.ErrorMessage);
        }

        return ValidationProblem(ModelState);
    }

    private ObjectResult NotFoundProblem(string detail) =>
        Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: detail);
}
