using System.CommandLine;

namespace PricingOptimizer.Pipelines.Bench;

/// <summary><c>po bench</c>: end-to-end benchmarks that print figures (targets in DESIGN.md).</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks that print figures: ingest, land, assign, readout, recommend, dashboard, compact.")
    {
        IngestBenchmark.Create(),
        LandBenchmark.Create(),
        AssignBenchmark.Create(),
        ReadoutBenchmark.Create(),
        RecommendBenchmark.Create(),
        DashboardBenchmark.Create(),
        CompactBenchmark.Create(),
    };
}
