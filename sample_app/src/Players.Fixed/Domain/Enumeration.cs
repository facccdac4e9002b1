namespace Players.Fixed.Domain;

/// <summary>
/// The "enumeration class" pattern: a closed set of named values richer than an enum. Each
/// concrete type lists its values itself (<see cref="Position.All"/>), instead of the values
/// being discovered from its static fields by reflection, which trimming breaks.
/// </summary>
public abstract class Enumeration : IComparable
{
    protected Enumeration(int id, string name)
    {
        Id = id;
        Name = name;
    }

    public int Id { get; }

    public string Name { get; }

    public override string ToString() => Name;

    public override bool Equals(object? obj) =>
        obj is Enumeration other && GetType() == other.GetType() && Id == other.Id;

    public override int GetHashCode() => Id.GetHashCode();

    public int CompareTo(object? other) => Id.CompareTo(((Enumeration)other!).Id);
}
