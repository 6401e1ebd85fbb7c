using System.ComponentModel.DataAnnotations;

namespace PricingOptimizer.Lake;

/// <summary>Configuration section <c>Lander</c>.</summary>
public sealed class LanderOptions
{
    public const string Section = "Lander";

    /// <summary>The most events one batch (and so the lander's memory) holds.</summary>
    [Range(1, 2_000_000)]
    public int BatchSize { get; set; } = 100_000;

    /// <summary>How long a batch may wait to fill before what arrived is landed.</summary>
    [Range(10, 600_000)]
    public int FlushIntervalMs { get; set; } = 1000;

    [Required, RegularExpression(@"^[A-Za-z0-9._-]{1,128}$")]
    public string GroupId { get; set; } = "po-lander";

    /// <summary>In embedded mode the ingest API runs the lander itself unless this is false.</summary>
    public bool HostInApi { get; set; } = true;
}
