using Microsoft.EntityFrameworkCore;
using Players.Mvc.Domain;

namespace Players.Mvc.Data;

/// <summary>The players table, through EF Core.</summary>
public sealed class PlayersDbContext(DbContextOptions<PlayersDbContext> options) : DbContext(options)
{
    public DbSet<Player> Players => Set<Player>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var player = modelBuilder.Entity<Player>();
        player.ToTable("Players");
        player.HasKey(p => p.Id);
        player.HasIndex(p => p.SquadNumber).IsUnique();
        player.Property(p => p.FirstName).IsRequired().HasMaxLength(40);
        player.Property(p => p.MiddleName).HasMaxLength(40);
        player.Property(p => p.LastName).IsRequired().HasMaxLength(40);
        player.Property(p => p.Position).IsRequired().HasMaxLength(2);
        player.Property(p => p.Team).HasMaxLength(60);
        player.Property(p => p.League).HasMaxLength(60);
    }
}
