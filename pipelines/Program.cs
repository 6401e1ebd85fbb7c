using PricingOptimizer.Pipelines.Cli;

namespace PricingOptimizer.Pipelines;

/// <summary>The <c>po</c> entry point.</summary>
public static class PoProgram
{
    public static Task<int> Main(string[] args) => PoCommandLine.RunAsync(args);
}
