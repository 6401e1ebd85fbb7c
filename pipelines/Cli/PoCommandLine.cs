using PricingOptimizer.Errors;
using System.CommandLine;
using PricingOptimizer.Pipelines.Bench;
using PricingOptimizer.Pipelines.Demo;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>The <c>po</c> command line: a table of the commands, and one-line errors.</summary>
public static class PoCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("po — PricingOptimizer's pipelines: land events, mint tokens, run the demo and the benchmarks.")
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
            BacktestCommand.Create(),
            ReportCommands.Report(),
            ReportCommands.Schedule(),
            DemoCommand.Create(),
            BenchCommand.Create(),
        };

        // 'po help [command]' is '--help' in the words people type.
        if (args.Length > 0 && args[0] == "help")
        {
            args = [.. args.Skip(1), "--help"];
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"po: {OneLine(parse.Errors[0].Message)} (see 'po {string.Join(' ', CommandPath(parse))} --help')");
            return 2;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync("po: " + OneLine(e.Message));
            return e.ExitCode;
        }
        catch (ProblemException e)
        {
            await Console.Error.WriteLineAsync("po: " + OneLine(ProblemLine(e)));
            return 1;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("po: cancelled");
            return 130;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("PO_DEBUG") is null)
        {
            await Console.Error.WriteLineAsync($"po: {e.GetType().Name}: {OneLine(e.Message)} (set PO_DEBUG=1 for the stack trace)");
            return 1;
        }
    }

    /// <summary>
    /// The engine's errors as the CLI says them: a field the command takes as an option is named as that option
    /// (<c>unit_cost</c> → <c>--unit-cost</c>, <c>experiment_id</c> → <c>--experiment</c>), any other field as it is.
    /// </summary>
    internal static string ProblemLine(ProblemException e) => e.Field switch
    {
        null => e.Message,
        "experiment_id" => "--experiment: " + e.Message,
        var field when field.All(c => char.IsAsciiLetterLower(c) || c == '_') => $"--{field.Replace('_', '-')}: {e.Message}",
        var field => $"{field}: {e.Message}",
    };

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new Stack<string>();
        for (var c = parse.CommandResult; c?.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent)
        {
            names.Push(c.Command.Name);
        }

        return names;
    }
}

/// <summary>An error the user can fix: printed as one line, exit code non-zero.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
