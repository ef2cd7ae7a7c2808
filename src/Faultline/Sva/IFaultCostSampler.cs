namespace Faultline.Sva;

/// <summary>
/// Draws the model time of one fault resolved by <see cref="AddressSpace.Fault"/>, for a host whose costs are
/// distributions rather than the constants of <see cref="SvaCosts"/> (the simulator's scenario distributions).
/// </summary>
public interface IFaultCostSampler
{
    /// <summary>The cost of one fault: a page already present, else one of a VMA of class <paramref name="cost"/>.</summary>
    long Sample(bool present, FaultCost cost);
}
