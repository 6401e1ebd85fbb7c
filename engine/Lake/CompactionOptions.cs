using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Lake;

/// <summary>Configuration section <c>Compaction</c>: the lake compactor (<c>po compact</c>, and in the background in
/// <c>po land</c> and the embedded API).</summary>
public sealed class CompactionOptions
{
    public const string Section = "Compaction";

    /// <summary>Whether <c>po land</c> and the embedded API compact in the background.</summary>
    public bool Background { get; set; } = true;

    /// <summary>How often the background compactor looks at every partition.</summary>
    [Range(1, 86_400)]
    public int IntervalSeconds { get; set; } = 300;

    /// <summary>A partition is compacted once it has at least this many small files.</summary>
    [Range(2, 1_000_000)]
    public int MinFiles { get; set; } = 8;

    /// <summary>Files at least this large are left alone, and a merged file holds at most about this much.</summary>
    [Range(1, 16_384)]
    public int TargetFileMb { get; set; } = 128;

    /// <summary>
    /// Files younger than this are left for a later pass: a lander that crashed before committing rewrites its newest
    /// files on replay, and a young file is the one such a replay may still touch.
    /// </summary>
    [Range(0, 86_400)]
    public int MinFileAgeSeconds { get; set; } = 60;

    /// <summary>
    /// How long a partition's compaction journal keeps a merge whose sources are all gone: readers that knew those
    /// sources (a process's warm summaries) use the entry to stay warm; one that comes back later rebuilds.
    /// </summary>
    [Range(1, 8_760)]
    public int JournalRetentionHours { get; set; } = 24;
}
