using FluentValidation;
using Players.Fixed;
using Players.Fixed.Data;
using Players.Fixed.Domain;
using Players.Fixed.Endpoints;
using Players.Fixed.Validation;

var builder = WebApplication.CreateSlimBuilder(args);

builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonSerializerContext.Default));

builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks();
builder.Services.AddOpenApi();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<PlayerRepository>();
// Each validator by name: assembly scanning finds nothing once the trimmer has removed the
// validator types that nothing references.
builder.Services.AddScoped<IValidator<PlayerRequest>, PlayerRequestValidator>();

var app = builder.Build();

app.Services.GetRequiredService<PlayerRepository>().CreateAndSeed();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapPlayers();

app.Run();
