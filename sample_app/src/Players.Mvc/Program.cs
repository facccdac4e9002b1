using FluentValidation;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Players.Mvc.Data;

var builder = WebApplication.CreateBuilder(args);

// A private in-memory database per process (shared cache, kept open by this connection for
// the process's lifetime), created and seeded at start: every instance starts alike.
var connectionString = builder.Configuration.GetConnectionString("Players")
    ?? $"Data Source=players-{Environment.ProcessId};Mode=Memory;Cache=Shared";
var keepAlive = new SqliteConnection(connectionString);
keepAlive.Open();

builder.Services.AddControllers();
builder.Services.AddProblemDetails();
builder.Services.AddHealthChecks();
builder.Services.AddDbContext<PlayersDbContext>(options => options.UseSqlite(connectionString));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddAutoMapper(typeof(Program));
builder.Services.AddValidatorsFromAssemblyContaining<Program>();
builder.Services.AddEndpointsApiExplorer();
builder.Services.AddSwaggerGen();

var app = builder.Build();

using (var scope = app.Services.CreateScope())
{
    var db = scope.ServiceProvider.GetRequiredService<PlayersDbContext>();
    db.Database.EnsureCreated();
    db.Players.AddRange(SeedData.Players());
    db.SaveChanges();
}

app.UseExceptionHandler();
app.UseStatusCodePages();

app.UseSwagger();
app.MapHealthChecks("/health");
app.MapControllers();

app.Run();
keepAlive.Dispose();
