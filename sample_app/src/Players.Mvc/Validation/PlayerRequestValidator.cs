using FluentValidation;
using Players.Mvc.Domain;

namespace Players.Mvc.Validation;

/// <summary>Registered by assembly scanning (AddValidatorsFromAssemblyContaining).</summary>
public sealed class PlayerRequestValidator : AbstractValidator<PlayerRequest>
{
    public PlayerRequestValidator(TimeProvider clock)
    {
        RuleFor(p => p.SquadNumber).InclusiveBetween(1, 99);
        RuleFor(p => p.FirstName).NotEmpty().MaximumLength(40);
        RuleFor(p => p.MiddleName).MaximumLength(40);
        RuleFor(p => p.LastName).NotEmpty().MaximumLength(40);
        RuleFor(p => p.DateOfBirth)
            .Must(dob => dob < DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
            .WithMessage("'Date Of Birth' must be in the past.")
            .Must(dob => dob.Year >= 1900)
            .WithMessage("'Date Of Birth' must not be before 1900.");
        RuleFor(p => p.Position)
            .NotEmpty()
            .Must(abbreviation => Position.FromAbbreviation(abbreviation) is not null)
            .WithMessage("'Position' must be a known abbreviation such as GK, CB or LW.");
        RuleFor(p => p.Team).MaximumLength(60);
        RuleFor(p => p.League).MaximumLength(60);
    }
}
