using System.CommandLine;

namespace PricingOptimizer.Benchmarks.Bench;

/// <summary>End-to-end benchmarks that print figures and the machine (the targets are in README "Performance").</summary>
public static class BenchCommand
{
    public static RootCommand Create() => new("bench — benchmarks that print figures: ingest, land, assign, readout, recommend, dashboard, compact.")
    {
        IngestBenchmark.Create(),
        LandBenchmark.Create(),
        AssignBenchmark.Create(),
        ReadoutBenchmark.Create(),
        RecommendBenchmark.Create(),
        DashboardBenchmark.Create(),
        CompactBenchmark.Create(),
        FreshProcess.Create(),
    };
}
