namespace Faultline.Faults;

/// <summary>
/// Recycled <see cref="FaultGroup"/>s indexed by slot, so a handle resolves in O(1) and the
/// steady state allocates nothing. An optional limit makes exhaustion an allocation failure (R13).
/// </summary>
internal sealed class FaultGroupPool
{
    private FaultGroup[] _slots = new FaultGroup[64];
    private readonly Stack<int> _free = new();
    private int _created;

    public FaultGroupPool(int? limit) => Limit = limit;

    public int? Limit { get; }
    public int InUse => _created - _free.Count;

    public FaultGroup? Rent()
    {
        if (_free.TryPop(out int slot)) return _slots[slot];
        if (Limit is { } limit && _created >= limit) return null;
        if (_created == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
        var group = new FaultGroup(_created);
        _slots[_created] = group;
        _created++;
        return group;
    }

    public void Return(FaultGroup group)
    {
        group.Reset();
        _free.Push(group.Slot);
    }

    public FaultGroup? Resolve(FaultGroupHandle handle)
    {
        if ((uint)handle.Slot >= (uint)_created) return null;
        var group = _slots[handle.Slot];
        return group.Generation == handle.Generation && group.State != FaultGroupState.Free ? group : null;
    }
}
