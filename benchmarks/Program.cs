using BenchmarkDotNet.Running;
using PricingOptimizer.Benchmarks.Bench;
using PricingOptimizer.Pipelines.Cli;

namespace PricingOptimizer.Benchmarks;

/// <summary>
/// The benchmarks: <c>dotnet run -c Release --project benchmarks -- ingest|land|assign|readout|recommend|dashboard|compact …</c>
/// run end-to-end benchmarks that print figures; <c>-- --filter '*'</c> (any first argument starting with <c>--</c> but
/// <c>--help</c>) runs the BenchmarkDotNet micro benchmarks.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0].StartsWith("--", StringComparison.Ordinal) && args[0] != "--help")
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
            return 0;
        }

        return await PoCommandLine.RunAsync(BenchCommand.Create(), args, "bench");
    }
}
