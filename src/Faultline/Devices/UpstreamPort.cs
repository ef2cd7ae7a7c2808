using Faultline.Pcie;

namespace Faultline.Devices;

/// <summary>The function's link toward the root complex; the host decides when messages arrive.</summary>
public interface IUpstreamPort
{
    /// <summary>Sends an ATS Translation Request (pcie.md §1 step 1).</summary>
    void SendTranslationRequest(in TranslationRequest request);
    /// <summary>Sends a Page Request message, or a Stop Marker (pcie.md §3.1, §3.2).</summary>
    void SendPageRequest(in PageRequest request);

    /// <summary>Posted, in order behind the page requests sent before it (H-PCI-18).</summary>
    void SendInvalidationCompletion(in InvalidationCompletion completion);
}

/// <summary>Optional hooks for a host that records what the function does (metrics, traces, invariants).</summary>
public interface IPriFunctionObserver
{
    /// <summary>A Page Request or Stop Marker left the function.</summary>
    void PageRequestSent(PriFunction function, in PageRequest request, long now);
    /// <summary>A PRG Response arrived: what the function made of it, and for a matched or discarded group the time since the group was sent (else 0).</summary>
    void PrgResponseReceived(PriFunction function, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now);
    /// <summary>An access ended, with how.</summary>
    void AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now);

    /// <summary>H-PCI-19: the function reports that it stopped using the PASID.</summary>
    void PasidStopCompleted(PriFunction function, Pasid pasid, long now);
}

/// <summary>What the function made of a PRG Response.</summary>
public enum PrgResponseOutcome
{
    /// <summary>Matched an outstanding group; its credits came back (H-PCI-2).</summary>
    Matched,
    /// <summary>H-PCI-10: no outstanding group has that index; UPRGI set.</summary>
    UnexpectedIndex,
    /// <summary>H-PCI-5, H-PCI-9: a Response Failure for no outstanding group; it sets RF all the same.</summary>
    FailureWithoutGroup,
    /// <summary>H-PCI-9: RF is set; the response is ignored.</summary>
    IgnoredAfterFailure,
    /// <summary>H-PCI-22: a late response for a group abandoned by a Stop Marker; discarded silently, credits back.</summary>
    DiscardedAfterStop,
}
