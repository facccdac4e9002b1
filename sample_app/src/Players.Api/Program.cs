using FluentValidation;
using Players.Api;
using Players.Api.Data;
using Players.Api.Endpoints;
using Players.Api.Mapping;

var builder = WebApplication.CreateSlimBuilder(args);

builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonSerializerContext.Default));

builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks();
builder.Services.AddOpenApi();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<PlayerRepository>();
builder.Services.AddAutoMapper(cfg =>
{
    cfg.LicenseKey = builder.Configuration["AutoMapper:LicenseKey"];
    cfg.AddProfile<PlayerProfile>();
});
builder.Services.AddValidatorsFromAssemblyContaining<Program>();

var app = builder.Build();

app.Services.GetRequiredService<PlayerRepository>().CreateAndSeed();

app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapOpenApi();
app.MapHealthChecks("/health");
app.MapPlayers();

app.Run();
