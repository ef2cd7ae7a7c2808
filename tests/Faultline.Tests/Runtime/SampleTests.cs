namespace Faultline.Tests.Runtime;

public class SampleTests
{
    [Fact(DisplayName = "samples/Embedding: a device model on its own thread faults through every IOMMU kind on the wall clock, invariants held")]
    public async Task Embedding_sample_runs_on_every_iommu_kind()
    {
        var output = new StringWriter();
        int exit = await Faultline.Samples.Embedding.Program.Run(output).WaitAsync(TimeSpan.FromSeconds(120));
        string text = output.ToString();
        Assert.True(exit == 0, text);
        foreach (var kind in new[] { "Vtd", "Smmuv3", "Amd", "Smmuv2" })
            Assert.Contains(text.Split('\n'), line => line.StartsWith(kind, StringComparison.Ordinal) && line.Contains("invariants held", StringComparison.Ordinal) && line.Contains("Completed", StringComparison.Ordinal));
    }
}
