using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Hosting;

/// <summary>Configuration section <c>Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Root of the embedded log, the control plane and the lake (<c>{data}/lake</c>).</summary>
    [Required] public string DataDirectory { get; set; } = "./data";

    /// <summary>The lake's root; defaults to <c>{DataDirectory}/lake</c>.</summary>
    public string? LakeDirectory { get; set; }

    /// <summary>How long the embedded log keeps events that every consumer group has committed.</summary>
    [Range(1, 24 * 3650)]
    public int EventLogRetentionHours { get; set; } = 24 * 7;

    public string LakeRoot => Path.GetFullPath(LakeDirectory ?? Path.Combine(DataDirectory, "lake"));

    /// <summary>Connection string of the control-plane store; defaults to an SQLite file in the data directory.</summary>
    public string? ControlPlane { get; set; }

    public string ControlPlaneConnectionString =>
        string.IsNullOrWhiteSpace(ControlPlane) ? "Data Source=" + Path.GetFullPath(Path.Combine(DataDirectory, "controlplane.db")) : ControlPlane;

    /// <summary>Where demand models are saved, per tenant and experiment; defaults to <c>{DataDirectory}/models</c>.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>DuckDB's memory for lake queries, in MB; beyond it DuckDB spills to <c>{DataDirectory}/tmp/duckdb</c>.</summary>
    [Range(16, 1024 * 1024)]
    public int QueryMemoryLimitMb { get; set; } = Lake.LakeQueries.DefaultMemoryLimitMb;

    /// <summary>Where lake queries spill beyond <see cref="QueryMemoryLimitMb"/> (a folder per process and instance inside).</summary>
    public string QuerySpillDirectory => Path.GetFullPath(Path.Combine(DataDirectory, "tmp", "duckdb"));

    public string ModelsRoot => Path.GetFullPath(ModelsDirectory ?? Path.Combine(DataDirectory, "models"));

    public string EventLogPath => Path.GetFullPath(Path.Combine(DataDirectory, "eventlog.db"));
}
