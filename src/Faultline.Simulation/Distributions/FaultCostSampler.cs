using Faultline.Sva;

namespace Faultline.Simulation.Distributions;

/// <summary>Each fault's service cost drawn from its class's distribution (present, minor, major); a class without one keeps its constant.</summary>
internal sealed class FaultCostSampler(ServiceSpec service, SvaCosts constants, SimRandom random) : IFaultCostSampler
{
    private readonly SimRandom _present = random.Fork("present_fault");
    private readonly SimRandom _minor = random.Fork("minor_fault");
    private readonly SimRandom _major = random.Fork("major_fault");

    public long Sample(bool present, FaultCost cost) =>
        present ? Draw(service.PresentFault, _present, constants.PresentNanoseconds)
        : cost == FaultCost.Major ? Draw(service.MajorFault, _major, constants.MajorFaultNanoseconds)
        : Draw(service.MinorFault, _minor, constants.MinorFaultNanoseconds);

    private static long Draw(Distribution? d, SimRandom random, long constant) => d?.Sample(random) ?? constant;
}
