using System.Globalization;
using Microsoft.Data.Sqlite;
using Players.Fixed.Domain;

namespace Players.Fixed.Data;

/// <summary>
/// Players in SQLite, through Microsoft.Data.Sqlite directly. The database is in memory and
/// private to the process (a shared-cache memory database kept open by this singleton), created
/// and seeded at start, so every instance starts from the same state.
/// </summary>
public sealed class PlayerRepository : IDisposable
{
    private readonly SqliteConnection _keepAlive;
    private readonly string _connectionString;

    public PlayerRepository(IConfiguration configuration)
    {
        _connectionString = configuration.GetConnectionString("Players")
            ?? $"Data Source=players-{Environment.ProcessId};Mode=Memory;Cache=Shared";
        _keepAlive = new SqliteConnection(_connectionString);
        _keepAlive.Open();
    }

    public void CreateAndSeed()
    {
        using var command = _keepAlive.CreateCommand();
        command.CommandText = """
            DROP TABLE IF EXISTS Players;
            CREATE TABLE Players (
                Id TEXT NOT NULL PRIMARY KEY,
                SquadNumber INTEGER NOT NULL UNIQUE,
                FirstName TEXT NOT NULL,
                MiddleName TEXT NULL,
                LastName TEXT NOT NULL,
                DateOfBirth TEXT NOT NULL,
                Position TEXT NOT NULL,
                Team TEXT NULL,
                League TEXT NULL,
                Starting11 INTEGER NOT NULL
            );
            """;
        command.ExecuteNonQuery();
        foreach (var player in SeedData.Players())
        {
            Insert(player);
        }
    }

    public async Task<List<Player>> ListAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM Players ORDER BY SquadNumber";
        return await ReadAllAsync(command, ct);
    }

    public async Task<Player?> FindBySquadNumberAsync(int squadNumber, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM Players WHERE SquadNumber = $n";
        command.Parameters.AddWithValue("$n", squadNumber);
        return (await ReadAllAsync(command, ct)).FirstOrDefault();
    }

    public async Task<Player?> FindByIdAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM Players WHERE Id = $id";
        command.Parameters.AddWithValue("$id", id.ToString());
        return (await ReadAllAsync(command, ct)).FirstOrDefault();
    }

    public void Insert(Player player)
    {
        using var command = _keepAlive.CreateCommand();
        command.CommandText = """
            INSERT INTO Players (Id, SquadNumber, FirstName, MiddleName, LastName, DateOfBirth, Position, Team, League, Starting11)
            VALUES ($id, $n, $first, $middle, $last, $dob, $pos, $team, $league, $s11)
            """;
        Bind(command, player);
        command.ExecuteNonQuery();
    }

    public async Task<bool> UpdateAsync(Player player, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE Players SET FirstName = $first, MiddleName = $middle, LastName = $last,
                DateOfBirth = $dob, Position = $pos, Team = $team, League = $league, Starting11 = $s11
            WHERE SquadNumber = $n
            """;
        Bind(command, player);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<bool> DeleteAsync(int squadNumber, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM Players WHERE SquadNumber = $n";
        command.Parameters.AddWithValue("$n", squadNumber);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    public void Dispose() => _keepAlive.Dispose();

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    private static void Bind(SqliteCommand command, Player player)
    {
        command.Parameters.AddWithValue("$id", player.Id.ToString());
        command.Parameters.AddWithValue("$n", player.SquadNumber);
        command.Parameters.AddWithValue("$first", player.FirstName);
        command.Parameters.AddWithValue("$middle", (object?)player.MiddleName ?? DBNull.Value);
        command.Parameters.AddWithValue("$last", player.LastName);
        command.Parameters.AddWithValue("$dob", player.DateOfBirth.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$pos", player.Position);
        command.Parameters.AddWithValue("$team", (object?)player.Team ?? DBNull.Value);
        command.Parameters.AddWithValue("$league", (object?)player.League ?? DBNull.Value);
        command.Parameters.AddWithValue("$s11", player.Starting11 ? 1 : 0);
    }

    private static async Task<List<Player>> ReadAllAsync(SqliteCommand command, CancellationToken ct)
    {
        var players = new List<Player>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            players.Add(new Player
            {
                Id = Guid.Parse(reader.GetString(reader.GetOrdinal("Id"))),
                SquadNumber = reader.GetInt32(reader.GetOrdinal("SquadNumber")),
                FirstName = reader.GetString(reader.GetOrdinal("FirstName")),
                MiddleName = reader.IsDBNull(reader.GetOrdinal("MiddleName")) ? null : reader.GetString(reader.GetOrdinal("MiddleName")),
                LastName = reader.GetString(reader.GetOrdinal("LastName")),
                DateOfBirth = DateOnly.ParseExact(reader.GetString(reader.GetOrdinal("DateOfBirth")), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                Position = reader.GetString(reader.GetOrdinal("Position")),
                Team = reader.IsDBNull(reader.GetOrdinal("Team")) ? null : reader.GetString(reader.GetOrdinal("Team")),
                League = reader.IsDBNull(reader.GetOrdinal("League")) ? null : reader.GetString(reader.GetOrdinal("League")),
                Starting11 = reader.GetInt32(reader.GetOrdinal("Starting11")) == 1,
            });
        }

        return players;
    }
}
