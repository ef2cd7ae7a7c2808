using System.Text;

namespace Faultline.Simulation.Sweeps;

/// <summary>
/// An sbatch script for a sweep as a Slurm job array: task I of N runs <c>--shard I/N</c> into the shared output
/// folder, and task 1 first submits the merge step, held until every task of the array has ended
/// (<c>afterany</c> on the array's job id: after a failed task the merge names the points no journal holds). One
/// <c>sbatch</c> runs the whole sweep (docs/sweeps.md).
/// </summary>
public static class SlurmScript
{
    /// <param name="faultline">The command that runs faultline on the compute nodes, e.g. an absolute path to it.</param>
    /// <param name="sweep">The sweep file, as the nodes see it (a shared file system).</param>
    /// <param name="folder">The output folder, shared by every task.</param>
    /// <param name="jobs">Cores per task (<c>--cpus-per-task</c>); each task runs its points on them.</param>
    public static string Emit(string faultline, string sweep, string folder, int shards, int jobs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("# A faultline sweep as a Slurm job array; submit with: sbatch THIS_FILE (docs/sweeps.md)\n");
        s.Append("#SBATCH --job-name=faultline-sweep\n");
        s.Append($"#SBATCH --array=1-{shards}\n");
        s.Append($"#SBATCH --cpus-per-task={jobs}\n");
        s.Append($"#SBATCH --output={folder}/slurm-%A_%a.out\n"); // not a shell line: no quoting
        s.Append("set -euo pipefail\n");
        s.Append($"FAULTLINE=${{FAULTLINE:-{Quote(faultline)}}}\n");
        s.Append($"SWEEP={Quote(sweep)}\n");
        s.Append($"OUT={Quote(folder)}\n");
        s.Append("if [ \"$SLURM_ARRAY_TASK_ID\" = 1 ]; then\n");
        s.Append("  # The merge waits for every task of this array to end.\n");
        s.Append("  sbatch --job-name=faultline-sweep-merge --dependency=afterany:\"$SLURM_ARRAY_JOB_ID\" --output=\"$OUT/slurm-%j-merge.out\" \\\n");
        s.Append("    --wrap \"$FAULTLINE sweep merge '$SWEEP' --out '$OUT'\"\n");
        s.Append("fi\n");
        s.Append($"$FAULTLINE sweep \"$SWEEP\" --out \"$OUT\" --shard \"$SLURM_ARRAY_TASK_ID/{shards}\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" || status=$?\n");
        s.Append("# Exit 1 is a point that broke invariants: a result like the others, in the journal.\n");
        s.Append("[ \"${status:-0}\" -le 1 ]\n");
        return s.ToString();
    }

    /// <summary>A path for the script: as is when it needs no quoting, else single-quoted.</summary>
    private static string Quote(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or ',') ? text : $"'{text.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
