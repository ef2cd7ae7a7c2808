using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>
/// The function's link, scripted by the test: records every translation request and page request
/// the function sends, and lets the test answer translations and send PRG Responses.
/// </summary>
public sealed class ScriptedPort : IUpstreamPort
{
    private readonly List<TranslationRequest> _unanswered = [];

    public List<TranslationRequest> TranslationRequests { get; } = [];
    public List<PageRequest> PageRequests { get; } = [];
    public List<InvalidationCompletion> InvalidationCompletions { get; } = [];

    /// <summary>The function this port belongs to; set right after constructing it.</summary>
    public PriFunction? Function { get; set; }

    public long Now { get; set; }

    public IReadOnlyList<TranslationRequest> Unanswered => _unanswered;

    public void SendTranslationRequest(in TranslationRequest request)
    {
        TranslationRequests.Add(request);
        _unanswered.Add(request);
    }

    public void SendPageRequest(in PageRequest request) => PageRequests.Add(request);

    public void SendInvalidationCompletion(in InvalidationCompletion completion) => InvalidationCompletions.Add(completion);

    private PriFunction Target => Function ?? throw new InvalidOperationException("ScriptedPort.Function is not set");

    /// <summary>Answers the translation requests pending now (not those the answers cause).</summary>
    public int AnswerTranslations(Func<TranslationRequest, bool> grant)
    {
        var batch = _unanswered.ToArray();
        _unanswered.Clear();
        foreach (var request in batch)
        {
            bool g = grant(request);
            Target.OnTranslationCompletion(new TranslationCompletion(request.Tag, TranslationStatus.Success, g, g, false), Now);
        }
        return batch.Length;
    }

    /// <summary>Every pending translation comes back R = W = 0: "use PRI".</summary>
    public int Deny() => AnswerTranslations(_ => false);

    /// <summary>Every pending translation comes back with read and write permission.</summary>
    public int Grant() => AnswerTranslations(_ => true);

    public void Respond(PrgIndex index, ResponseCode code) =>
        Target.OnPrgResponse(new PrgResponse(Target.Requester, index, code, null), Now);

    public void Respond(int index, ResponseCode code) => Respond(PrgIndex.Create(index), code);

    /// <summary>The page requests sent since <paramref name="mark"/> (a previous PageRequests.Count).</summary>
    public List<PageRequest> Since(int mark) => PageRequests.Skip(mark).ToList();

    /// <summary>The PRG indexes of the groups closed (L = 1) so far, in order.</summary>
    public List<PrgIndex> ClosedGroups => PageRequests.Where(r => r.Last).Select(r => r.Index).ToList();
}
