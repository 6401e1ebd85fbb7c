using System.CommandLine;
using PricingOptimizer.Pipelines.Cli;
using PricingOptimizer.Pipelines.Demo;

namespace PricingOptimizer.Pipelines;

/// <summary>The <c>po</c> entry point and its table of commands.</summary>
public static class PoProgram
{
    public static Task<int> Main(string[] args) => PoCommandLine.RunAsync(Root(), args, "po");

    /// <summary>The po commands (the benchmarks are a program of their own: <c>dotnet run -c Release --project benchmarks</c>).</summary>
    public static RootCommand Root() =>
        new("po — PricingOptimizer's pipelines: land events, mint tokens, import and export, read out, recommend, report, run the demo.")
        {
            WorkerCommands.Land(),
            WorkerCommands.Dispatch(),
            TokenCommand.Create(),
            ImportExportCommands.Import(),
            ImportExportCommands.Export(),
            CompactCommand.Create(),
            ImportExportCommands.Simulate(),
            ReadoutCommand.Create(),
            PowerCommand.Create(),
            PricingCommands.Recommend(),
            PricingCommands.Model(),
            AllocateCommand.Create(),
            BacktestCommand.Create(),
            ReportCommands.Report(),
            ReportCommands.Schedule(),
            DemoCommand.Create(),
        };
}
