using FluentValidation;

namespace Players.Fixed.Validation;

/// <summary>
/// Validates the first argument of type <typeparamref name="T"/> with the validator registered
/// for it, and answers 400 with problem details when it is invalid. A missing validator is an
/// error, not a pass: a registration lost to trimming (or forgotten) cannot go unnoticed.
/// </summary>
public sealed class ValidationFilter<T> : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var validator = context.HttpContext.RequestServices.GetRequiredService<IValidator<T>>();
        var argument = context.Arguments.OfType<T>().FirstOrDefault();
        if (argument is null)
        {
            return await next(context);
        }

        var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
        if (!result.IsValid)
        {
            return TypedResults.ValidationProblem(result.ToDictionary());
        }

        return await next(context);
    }
}
