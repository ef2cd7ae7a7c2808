namespace Faultline.Devices;

/// <summary>
/// A function's translation requests in flight, by tag. Tags are handed out in sequence, so a tag's low bits are its
/// home slot and, answered in order, requests in flight sit in consecutive slots: an insert and a removal touch one
/// slot, with no hashing and no allocation once grown (issue 9, where this was a dictionary). Open addressing with
/// backward-shift deletion, at most half full; the table's size follows the requests in flight, not the span of
/// their tags, so a request never answered costs one slot however far the tags move on. Nothing iterates it in an
/// order that decides anything (rule 2).
/// </summary>
internal sealed class TranslationTags<T>
{
    private const int FirstSlots = 16;
    private Slot[] _slots = [];

    public int Count { get; private set; }

    /// <summary>Slots allocated (for tests: they follow the requests in flight, not their tags).</summary>
    internal int Slots => _slots.Length;

    public void Add(int tag, in T value)
    {
        if (2 * (Count + 1) > _slots.Length) Grow();
        Place(tag, value);
        Count++;
    }

    /// <summary>Takes the value filed under <paramref name="tag"/>; false for a tag not in flight (answered already, or never asked).</summary>
    public bool Remove(int tag, out T value)
    {
        value = default!;
        if (Count == 0) return false;
        int mask = _slots.Length - 1;
        for (int slot = tag & mask; _slots[slot].Used; slot = (slot + 1) & mask)
        {
            if (_slots[slot].Tag != tag) continue;
            value = _slots[slot].Value;
            Vacate(slot);
            Count--;
            return true;
        }
        return false;
    }

    /// <summary>Whether a value in flight satisfies <paramref name="match"/>.</summary>
    public bool Any<TState>(TState state, Func<TState, T, bool> match)
    {
        foreach (ref readonly var slot in _slots.AsSpan())
            if (slot.Used && match(state, slot.Value)) return true;
        return false;
    }

    private void Place(int tag, in T value)
    {
        int mask = _slots.Length - 1;
        int slot = tag & mask;
        while (_slots[slot].Used) slot = (slot + 1) & mask;
        _slots[slot] = new Slot { Used = true, Tag = tag, Value = value };
    }

    // Backward shift: every entry after the hole that may move into it does, so probe runs stay unbroken.
    private void Vacate(int slot)
    {
        int mask = _slots.Length - 1;
        _slots[slot] = default;
        for (int next = (slot + 1) & mask; _slots[next].Used; next = (next + 1) & mask)
        {
            int home = _slots[next].Tag & mask;
            if (((next - home) & mask) < ((next - slot) & mask)) continue;
            _slots[slot] = _slots[next];
            _slots[next] = default;
            slot = next;
        }
    }

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[Math.Max(FirstSlots, old.Length * 2)];
        foreach (ref readonly var slot in old.AsSpan())
            if (slot.Used) Place(slot.Tag, slot.Value);
    }

    private struct Slot
    {
        public bool Used;
        public int Tag;
        public T Value;
    }
}
